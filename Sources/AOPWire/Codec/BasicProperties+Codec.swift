/// The basic class's content-header properties: a 16-bit property-flags word (bit 15 = content-type …
/// bit 2 = cluster-id; bit 0 = "another flags word follows"), then the present properties in flag order.
extension BasicProperties {
    /// Flag bits, in wire order.
    enum Flag {
        static let contentType: UInt16 = 1 << 15
        static let contentEncoding: UInt16 = 1 << 14
        static let headers: UInt16 = 1 << 13
        static let deliveryMode: UInt16 = 1 << 12
        static let priority: UInt16 = 1 << 11
        static let correlationID: UInt16 = 1 << 10
        static let replyTo: UInt16 = 1 << 9
        static let expiration: UInt16 = 1 << 8
        static let messageID: UInt16 = 1 << 7
        static let timestamp: UInt16 = 1 << 6
        static let type: UInt16 = 1 << 5
        static let userID: UInt16 = 1 << 4
        static let appID: UInt16 = 1 << 3
        static let clusterID: UInt16 = 1 << 2
        static let continuation: UInt16 = 1
    }

    /// The property-flags word for the present properties.
    public var propertyFlags: UInt16 {
        var flags: UInt16 = 0
        if self.contentType != nil { flags |= Flag.contentType }
        if self.contentEncoding != nil { flags |= Flag.contentEncoding }
        if self.headers != nil { flags |= Flag.headers }
        if self.deliveryMode != nil { flags |= Flag.deliveryMode }
        if self.priority != nil { flags |= Flag.priority }
        if self.correlationID != nil { flags |= Flag.correlationID }
        if self.replyTo != nil { flags |= Flag.replyTo }
        if self.expiration != nil { flags |= Flag.expiration }
        if self.messageID != nil { flags |= Flag.messageID }
        if self.timestamp != nil { flags |= Flag.timestamp }
        if self.type != nil { flags |= Flag.type }
        if self.userID != nil { flags |= Flag.userID }
        if self.appID != nil { flags |= Flag.appID }
        if self.clusterID != nil { flags |= Flag.clusterID }
        return flags
    }

    /// Decodes flags and properties, consuming the reader to its end.
    ///
    /// Continuation flag words are read and ignored (the basic class has no properties beyond the first
    /// word); bit 1 is ignored, as RabbitMQ does. Bytes left over after the last property are 501 FRAME_ERROR.
    static func decode(from reader: inout WireReader) throws(AMQPError) -> BasicProperties {
        let flags = try reader.readInteger(UInt16.self, "property flags")
        var more = flags & Flag.continuation != 0
        while more { more = try reader.readInteger(UInt16.self, "property flags") & Flag.continuation != 0 }
        var p = BasicProperties()
        if flags == 0 || flags == Flag.continuation {
            guard reader.isAtEnd else { throw .frameError("cannot decode: bytes after the content properties") }
            return p
        }
        if flags & Flag.contentType != 0 { p.contentType = try reader.readShortString() }
        if flags & Flag.contentEncoding != 0 { p.contentEncoding = try reader.readShortString() }
        if flags & Flag.headers != 0 { p.headers = try reader.readFieldTable() }
        if flags & Flag.deliveryMode != 0 { p.deliveryMode = try reader.readUInt8() }
        if flags & Flag.priority != 0 { p.priority = try reader.readUInt8() }
        if flags & Flag.correlationID != 0 { p.correlationID = try reader.readShortString() }
        if flags & Flag.replyTo != 0 { p.replyTo = try reader.readShortString() }
        if flags & Flag.expiration != 0 { p.expiration = try reader.readShortString() }
        if flags & Flag.messageID != 0 { p.messageID = try reader.readShortString() }
        if flags & Flag.timestamp != 0 { p.timestamp = try reader.readUInt64() }
        if flags & Flag.type != 0 { p.type = try reader.readShortString() }
        if flags & Flag.userID != 0 { p.userID = try reader.readShortString() }
        if flags & Flag.appID != 0 { p.appID = try reader.readShortString() }
        if flags & Flag.clusterID != 0 { p.clusterID = try reader.readShortString() }
        guard reader.isAtEnd else { throw .frameError("cannot decode: bytes after the content properties") }
        return p
    }

    /// Writes the flags word and the present properties.
    public func encode(into buffer: inout ByteBuffer) {
        let flags = self.propertyFlags
        buffer.writeInteger(flags)
        if flags == 0 { return }
        if let v = self.contentType { buffer.writeShortString(v) }
        if let v = self.contentEncoding { buffer.writeShortString(v) }
        if let v = self.headers { buffer.writeFieldTable(v) }
        if let v = self.deliveryMode { buffer.writeInteger(v) }
        if let v = self.priority { buffer.writeInteger(v) }
        if let v = self.correlationID { buffer.writeShortString(v) }
        if let v = self.replyTo { buffer.writeShortString(v) }
        if let v = self.expiration { buffer.writeShortString(v) }
        if let v = self.messageID { buffer.writeShortString(v) }
        if let v = self.timestamp { buffer.writeInteger(v) }
        if let v = self.type { buffer.writeShortString(v) }
        if let v = self.userID { buffer.writeShortString(v) }
        if let v = self.appID { buffer.writeShortString(v) }
        if let v = self.clusterID { buffer.writeShortString(v) }
    }

    /// Decodes flags and properties from the readable bytes, consuming all of them.
    /// - Throws: 501 FRAME_ERROR when truncated or followed by extra bytes (reader index then unchanged).
    public static func decode(from buffer: inout ByteBuffer) throws(AMQPError) -> BasicProperties {
        try buffer.withWireReader { (reader: inout WireReader) throws(AMQPError) in try Self.decode(from: &reader) }
    }
}
