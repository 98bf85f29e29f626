/// The common delivery written in one pass: its size is computed first, the buffer grows once, and every
/// byte is stored through one pointer (`writeBasicDeliver` appended field by field, each append a
/// uniqueness check and a capacity check: a tenth of the broker's CPU on 16-byte messages).
extension ByteBuffer {
    /// Writes the delivery's method, content header and body frames in one pass; false (nothing written)
    /// when it is not the common case: a headers table, a short string over 255 bytes, or a body that needs
    /// more than one frame. `writeBasicDeliver` then writes it field by field; the bytes are the same.
    mutating func writeBasicDeliverInOnePass(
        channel: UInt16, consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String,
        routingKey: String, properties: BasicProperties, body: [UInt8], frameMax: UInt32
    ) -> Bool {
        guard properties.headers == nil, let propertiesSize = properties.fixedEncodedSize else { return false }
        let tagCount = consumerTag.utf8.count, exchangeCount = exchange.utf8.count
        let keyCount = routingKey.utf8.count
        guard tagCount <= 255, exchangeCount <= 255, keyCount <= 255,
              frameMax == 0 || body.count + Frame.overhead <= Int(frameMax) else { return false }
        let methodPayload = 4 + 1 + tagCount + 8 + 1 + 1 + exchangeCount + 1 + keyCount
        let headerPayload = 12 + propertiesSize
        let total = methodPayload + headerPayload + 2 * Frame.overhead
            + (body.isEmpty ? 0 : body.count + Frame.overhead)
        let start = self.storage.count
        self.reserveAdditionalCapacity(total)
        self.storage.append(contentsOf: repeatElement(0, count: total))
        self.storage.withUnsafeMutableBytes { raw in
            var w = OnePassWriter(base: raw.baseAddress! + start)
            w.frameHeader(type: Frame.FrameType.method.rawValue, channel: channel, size: methodPayload)
            w.integer(BasicDeliver.classID)
            w.integer(BasicDeliver.methodID)
            w.shortString(consumerTag, count: tagCount)
            w.integer(deliveryTag)
            w.integer(UInt8(redelivered ? 1 : 0))
            w.shortString(exchange, count: exchangeCount)
            w.shortString(routingKey, count: keyCount)
            w.integer(Frame.end)
            w.frameHeader(type: Frame.FrameType.header.rawValue, channel: channel, size: headerPayload)
            w.integer(UInt16(60))
            w.integer(UInt16(0))
            w.integer(UInt64(body.count))
            w.properties(properties)
            w.integer(Frame.end)
            if !body.isEmpty {
                w.frameHeader(type: Frame.FrameType.body.rawValue, channel: channel, size: body.count)
                body.withUnsafeBytes { w.bytes($0) }
                w.integer(Frame.end)
            }
            assert(w.offset == total, "one-pass delivery size mismatch")
        }
        return true
    }
}

extension BasicProperties {
    /// The encoded size (flags included) when no headers table is present and no short string is over
    /// 255 bytes (those are encoded by `encode(into:)`); nil otherwise.
    var fixedEncodedSize: Int? {
        var size = 2
        var fits = true
        func add(_ s: String?) {
            guard let s else { return }
            let count = s.utf8.count
            if count > 255 { fits = false }
            size += 1 + count
        }
        add(self.contentType)
        add(self.contentEncoding)
        add(self.correlationID)
        add(self.replyTo)
        add(self.expiration)
        add(self.messageID)
        add(self.type)
        add(self.userID)
        add(self.appID)
        add(self.clusterID)
        if self.deliveryMode != nil { size += 1 }
        if self.priority != nil { size += 1 }
        if self.timestamp != nil { size += 8 }
        return fits ? size : nil
    }
}

/// Stores big-endian integers and byte strings at a moving offset (the room was made beforehand).
struct OnePassWriter {
    let base: UnsafeMutableRawPointer
    var offset = 0

    @inline(__always)
    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        (self.base + self.offset).storeBytes(of: value.bigEndian, as: T.self)
        self.offset += MemoryLayout<T>.size
    }

    @inline(__always)
    mutating func frameHeader(type: UInt8, channel: UInt16, size: Int) {
        self.integer(type)
        self.integer(channel)
        self.integer(UInt32(truncatingIfNeeded: size))
    }

    @inline(__always)
    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        (self.base + self.offset).copyMemory(from: source, byteCount: bytes.count)
        self.offset += bytes.count
    }

    /// A short string of `count` (≤ 255) UTF-8 bytes.
    @inline(__always)
    mutating func shortString(_ string: String, count: Int) {
        self.integer(UInt8(truncatingIfNeeded: count))
        let copied: Void? = string.utf8.withContiguousStorageIfAvailable { self.bytes(UnsafeRawBufferPointer($0)) }
        if copied == nil {
            for byte in string.utf8 { self.integer(byte) }
        }
    }

    /// The properties as `BasicProperties.encode(into:)` writes them (no headers table).
    mutating func properties(_ p: BasicProperties) {
        self.integer(p.propertyFlags)
        func string(_ s: String?, _ w: inout OnePassWriter) {
            if let s { w.shortString(s, count: s.utf8.count) }
        }
        string(p.contentType, &self)
        string(p.contentEncoding, &self)
        if let v = p.deliveryMode { self.integer(v) }
        if let v = p.priority { self.integer(v) }
        string(p.correlationID, &self)
        string(p.replyTo, &self)
        string(p.expiration, &self)
        string(p.messageID, &self)
        if let v = p.timestamp { self.integer(v) }
        string(p.type, &self)
        string(p.userID, &self)
        string(p.appID, &self)
        string(p.clusterID, &self)
    }
}
