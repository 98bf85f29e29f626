extension AMQPClientConfiguration {
    /// Parses `amqp://user:pass@host:port/vhost?heartbeat=S&frame_max=N&channel_max=N&connection_name=X`.
    ///
    /// Missing parts keep their defaults (guest/guest, 127.0.0.1, 5672, "/"). The virtual host is
    /// percent-decoded ("%2F" is "/"); an empty path means "/". IPv6 hosts are bracketed ("[::1]").
    /// - Throws: `AMQPClientError` with code `.invalidArgument` for another scheme or a bad port.
    public init(uri: String) throws(AMQPClientError) {
        self.init()
        guard uri.hasPrefix("amqp://") else { throw .invalidArgument("URI '\(uri)' does not start with amqp://") }
        var rest = Substring(uri.dropFirst("amqp://".count))
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var path: Substring?
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                self.user = try Self.percentDecoded(credentials[..<colon])
                self.password = try Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                self.user = try Self.percentDecoded(credentials)
            }
        }
        var hostPart = rest
        var portPart: Substring?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw .invalidArgument("unterminated IPv6 host in '\(uri)'") }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() }
            hostPart = hostPart[...close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portPart = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        if !hostPart.isEmpty { self.host = String(hostPart) }
        if let portPart, !portPart.isEmpty {
            guard let port = UInt16(portPart) else { throw .invalidArgument("bad port '\(portPart)' in '\(uri)'") }
            self.port = port
        }
        if let path, !path.isEmpty { self.virtualHost = try Self.percentDecoded(path) }
        for item in query.split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let value = try Self.percentDecoded(pair[1])
            switch pair[0] {
            case "heartbeat": self.heartbeat = try Self.number(value, "heartbeat")
            case "frame_max": self.frameMax = try Self.number(value, "frame_max")
            case "channel_max": self.channelMax = try Self.number(value, "channel_max")
            case "connection_name": self.connectionName = value
            default: continue
            }
        }
    }

    private static func number<T: FixedWidthInteger>(_ text: String, _ name: String) throws(AMQPClientError) -> T {
        guard let value = T(text) else { throw .invalidArgument("bad \(name) '\(text)'") }
        return value
    }

    static func percentDecoded(_ text: Substring) throws(AMQPClientError) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                throw .invalidArgument("bad percent escape in '\(text)'")
            }
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
