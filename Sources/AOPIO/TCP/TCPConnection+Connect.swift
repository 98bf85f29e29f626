import CURing
import Glibc

extension TCPConnection {
    /// Opens an outbound TCP connection to `host:port` with an io_uring connect on `loop`.
    ///
    /// Must be called on `loop` (from code isolated to an actor whose executor is the loop). The socket
    /// gets `TCP_NODELAY` (callers coalesce their own writes). The returned connection is used exactly
    /// like an accepted one: `receive()`, `write(_:)`, `close()`.
    /// - Parameters:
    ///   - host: a numeric IPv4 or IPv6 literal ("127.0.0.1", "::1", "[::1]"); "localhost" means 127.0.0.1.
    ///   - port: the TCP port.
    ///   - loop: the ring that drives the connection.
    /// - Throws: `IOError` with the connect error (ECONNREFUSED, ETIMEDOUT, …) or EINVAL for a bad address.
    public static func connect(
        host: String, port: UInt16, on loop: RingLoop, isolation: isolated (any Actor)? = #isolation
    ) async throws(IOError) -> TCPConnection {
        loop.assertOnLoop()
        let address = try SocketAddress(host: host == "localhost" ? "127.0.0.1" : host, port: port)
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError.lastError("socket") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        // The kernel reads the address when the SQE is consumed; keep it alive until the completion.
        let storage = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: 1)
        storage.initialize(to: address.storage)
        let length = address.length
        let result: Int32 = await withUnsafeContinuation(isolation: isolation) { continuation in
            loop.submit({ sqe in
                storage.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    io_uring_prep_connect(sqe, fd, $0, length)
                }
            }) { result, _ in
                continuation.resume(returning: result)
            }
        }
        storage.deallocate()
        guard result >= 0 else {
            Glibc.close(fd)
            throw IOError(result: result, operation: "connect \(host):\(port)")
        }
        return TCPConnection(fd: fd, loop: loop)
    }
}
