import AOPWire

/// The record a message-topic entry holds: one published message, stored once however many queues it
/// reaches. Layout: `u8 version(1)`, exchange and routing key (stored strings), `u16` property flags
/// (bit 15 = content-type … bit 2 = cluster-id, as on the wire) followed by the present properties,
/// then the body (`u32 length + bytes`).
enum MessageRecord {
    static let version: UInt8 = 1

    static func encode(_ message: Message) -> [UInt8] {
        var buffer = ByteBuffer(capacity: 64 + message.body.count)
        buffer.writeInteger(Self.version)
        buffer.writeStoredString(message.exchange)
        buffer.writeStoredString(message.routingKey)
        let p = message.properties
        var flags: UInt16 = 0
        func bit(_ present: Bool, _ n: UInt16) { if present { flags |= 1 << n } }
        bit(p.contentType != nil, 15)
        bit(p.contentEncoding != nil, 14)
        bit(p.headers != nil, 13)
        bit(p.deliveryMode != nil, 12)
        bit(p.priority != nil, 11)
        bit(p.correlationID != nil, 10)
        bit(p.replyTo != nil, 9)
        bit(p.expiration != nil, 8)
        bit(p.messageID != nil, 7)
        bit(p.timestamp != nil, 6)
        bit(p.type != nil, 5)
        bit(p.userID != nil, 4)
        bit(p.appID != nil, 3)
        bit(p.clusterID != nil, 2)
        buffer.writeInteger(flags)
        if let v = p.contentType { buffer.writeStoredString(v) }
        if let v = p.contentEncoding { buffer.writeStoredString(v) }
        if let v = p.headers { buffer.writeStoredTable(v) }
        if let v = p.deliveryMode { buffer.writeInteger(v) }
        if let v = p.priority { buffer.writeInteger(v) }
        if let v = p.correlationID { buffer.writeStoredString(v) }
        if let v = p.replyTo { buffer.writeStoredString(v) }
        if let v = p.expiration { buffer.writeStoredString(v) }
        if let v = p.messageID { buffer.writeStoredString(v) }
        if let v = p.timestamp { buffer.writeInteger(v) }
        if let v = p.type { buffer.writeStoredString(v) }
        if let v = p.userID { buffer.writeStoredString(v) }
        if let v = p.appID { buffer.writeStoredString(v) }
        if let v = p.clusterID { buffer.writeStoredString(v) }
        buffer.writeStoredBytes(message.body)
        return buffer.storage
    }

    /// nil when the record is truncated or of an unknown version.
    static func decode(_ bytes: [UInt8]) -> Message? {
        var b = ByteBuffer(bytes: bytes)
        guard b.readInteger(as: UInt8.self) == Self.version,
              let exchange = b.readStoredString(), let routingKey = b.readStoredString(),
              let flags = b.readInteger(as: UInt16.self)
        else { return nil }
        func has(_ n: UInt16) -> Bool { flags & (1 << n) != 0 }
        var p = BasicProperties()
        var ok = true
        func string() -> String? {
            let s = b.readStoredString()
            if s == nil { ok = false }
            return s
        }
        if has(15) { p.contentType = string() }
        if has(14) { p.contentEncoding = string() }
        if has(13) {
            p.headers = b.readStoredTable()
            if p.headers == nil { ok = false }
        }
        if has(12) {
            p.deliveryMode = b.readInteger(as: UInt8.self)
            if p.deliveryMode == nil { ok = false }
        }
        if has(11) {
            p.priority = b.readInteger(as: UInt8.self)
            if p.priority == nil { ok = false }
        }
        if has(10) { p.correlationID = string() }
        if has(9) { p.replyTo = string() }
        if has(8) { p.expiration = string() }
        if has(7) { p.messageID = string() }
        if has(6) {
            p.timestamp = b.readInteger(as: UInt64.self)
            if p.timestamp == nil { ok = false }
        }
        if has(5) { p.type = string() }
        if has(4) { p.userID = string() }
        if has(3) { p.appID = string() }
        if has(2) { p.clusterID = string() }
        guard ok, let body = b.readStoredBytes() else { return nil }
        return Message(exchange: exchange, routingKey: routingKey, properties: p, body: body)
    }
}
