import CURing
import Glibc

/// An IPv4 or IPv6 socket address (numeric literals only; no name resolution).
struct SocketAddress {
    var storage = sockaddr_storage()
    var length: socklen_t = 0

    var family: Int32 { Int32(self.storage.ss_family) }

    /// Parses `host` ("127.0.0.1", "::1", "[::1]", "0.0.0.0", "::") with `port`.
    init(host: String, port: UInt16) throws(IOError) {
        var literal = host
        if literal.hasPrefix("["), literal.hasSuffix("]") {
            literal = String(literal.dropFirst().dropLast())
        }
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, literal, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            self.set(v4)
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, literal, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            self.set(v6)
            return
        }
        throw IOError(errno: EINVAL, operation: "parse address '\(host)' (numeric IPv4/IPv6 literal expected)")
    }

    private init() {}

    /// The peer (`getpeername`) or local (`getsockname`) address of a socket.
    static func of(socket fd: Int32, peer: Bool) -> SocketAddress? {
        var address = SocketAddress()
        address.length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ret = withUnsafeMutablePointer(to: &address.storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                peer ? getpeername(fd, $0, &address.length) : getsockname(fd, $0, &address.length)
            }
        }
        return ret == 0 ? address : nil
    }

    private mutating func set<T>(_ value: T) {
        withUnsafeMutableBytes(of: &self.storage) { storage in
            withUnsafeBytes(of: value) { storage.copyMemory(from: $0) }
        }
        self.length = socklen_t(MemoryLayout<T>.size)
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: self.storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), self.length)
        }
    }

    var port: UInt16 {
        withUnsafeBytes(of: self.storage) { raw in
            switch self.family {
            case AF_INET: UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
            case AF_INET6: UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
            default: 0
            }
        }
    }

    /// True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8.
    var isLoopback: Bool {
        withUnsafeBytes(of: self.storage) { raw in
            switch self.family {
            case AF_INET:
                let address = raw.load(as: sockaddr_in.self).sin_addr
                return withUnsafeBytes(of: address) { $0[0] == 127 }
            case AF_INET6:
                let address = raw.load(as: sockaddr_in6.self).sin6_addr
                return withUnsafeBytes(of: address) { bytes in
                    let loopback = bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1
                    let mapped = bytes.prefix(10).allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
                    return loopback || (mapped && bytes[12] == 127)
                }
            default:
                return false
            }
        }
    }

    /// "127.0.0.1:51234" or "[::1]:51234".
    var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        return withUnsafeBytes(of: self.storage) { raw in
            switch self.family {
            case AF_INET:
                var address = raw.load(as: sockaddr_in.self).sin_addr
                inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
                return "\(Self.string(text)):\(self.port)"
            case AF_INET6:
                var address = raw.load(as: sockaddr_in6.self).sin6_addr
                inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
                return "[\(Self.string(text))]:\(self.port)"
            default:
                return "unknown"
            }
        }
    }

    private static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
