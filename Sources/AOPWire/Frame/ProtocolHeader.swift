/// The 8-byte protocol header that opens an AMQP 0-9-1 connection: `"AMQP" 0 0 9 1`.
public enum ProtocolHeader {
    /// `"AMQP\0\0\u{9}\u{1}"`: what a 0-9-1 client sends first, and what a server sends back (then closes)
    /// when it does not accept the client's header.
    public static let bytes: [UInt8] = [0x41, 0x4D, 0x51, 0x50, 0, 0, 9, 1]

    /// The 0-9 header `"AMQP" 1 1 0 9`, which RabbitMQ accepts and treats as 0-9-1.
    public static let amqp09Bytes: [UInt8] = [0x41, 0x4D, 0x51, 0x50, 1, 1, 0, 9]

    /// Checks the first bytes a client sent.
    ///
    /// Returns `.mismatch` as soon as a byte differs (an HTTP request or a TLS hello is refused after its
    /// first bytes), `.needMore` while fewer than 8 bytes agree, `.ok` for 0-9-1 or RabbitMQ's accepted 0-9.
    public static func check(_ bytes: some Collection<UInt8>) -> ProtocolHeaderCheck {
        var matches091 = true
        var matches09 = true
        var count = 0
        for (i, byte) in bytes.prefix(8).enumerated() {
            matches091 = matches091 && byte == Self.bytes[i]
            matches09 = matches09 && byte == Self.amqp09Bytes[i]
            count = i + 1
        }
        if !matches091 && !matches09 { return .mismatch }
        return count < 8 ? .needMore : .ok
    }
}

/// What the first bytes of a connection say.
public enum ProtocolHeaderCheck: Sendable, Hashable {
    /// A protocol header this server accepts.
    case ok
    /// Fewer than 8 bytes so far, all matching.
    case needMore
    /// Not an AMQP 0-9-1 header: answer with `ProtocolHeader.bytes` and close.
    case mismatch
}

extension ByteBuffer {
    /// Checks the readable bytes for a protocol header and consumes its 8 bytes when it is `.ok`.
    public mutating func readProtocolHeader() -> ProtocolHeaderCheck {
        let result = ProtocolHeader.check(self.storage[self.readerIndex...])
        if result == .ok { self.readerIndex += 8 }
        return result
    }

    /// Writes `"AMQP" 0 0 9 1`.
    public mutating func writeProtocolHeader() {
        self.storage.append(contentsOf: ProtocolHeader.bytes)
    }
}
