/// Frame encoding on `ByteBuffer`. Frame sizes are back-patched (`setInteger`), so nothing is encoded twice.
extension ByteBuffer {
    /// Starts a frame: type, channel and a size placeholder. Returns the placeholder's index.
    @inline(__always)
    mutating func beginFrame(type: Frame.FrameType, channel: UInt16) -> Int {
        self.storage.append(type.rawValue)
        self.writeInteger(channel)
        let sizeIndex = self.storage.count
        self.writeInteger(UInt32(0))
        return sizeIndex
    }

    /// Ends a frame begun at `sizeIndex`: patches the size and writes the frame-end octet.
    @inline(__always)
    mutating func endFrame(sizeIndex: Int) {
        let size = self.storage.count - sizeIndex - 4
        precondition(size <= Int(UInt32.max), "frame payload longer than 2^32-1 bytes")
        self.setInteger(UInt32(truncatingIfNeeded: size), at: sizeIndex)
        self.storage.append(Frame.end)
    }

    /// Writes a method frame.
    public mutating func writeMethodFrame(channel: UInt16, _ method: AMQPMethod) {
        let sizeIndex = self.beginFrame(type: .method, channel: channel)
        method.encode(into: &self)
        self.endFrame(sizeIndex: sizeIndex)
    }

    /// Writes a content-header frame.
    public mutating func writeContentHeaderFrame(channel: UInt16, _ header: ContentHeader) {
        let sizeIndex = self.beginFrame(type: .header, channel: channel)
        header.encode(into: &self)
        self.endFrame(sizeIndex: sizeIndex)
    }

    /// Writes one body frame holding `body` whole (the caller keeps it within frame-max).
    public mutating func writeBodyFrame(channel: UInt16, _ body: some Collection<UInt8>) {
        let sizeIndex = self.beginFrame(type: .body, channel: channel)
        self.storage.append(contentsOf: body)
        self.endFrame(sizeIndex: sizeIndex)
    }

    /// Writes a heartbeat frame (channel 0, empty payload).
    public mutating func writeHeartbeat() {
        self.storage.append(contentsOf: [Frame.FrameType.heartbeat.rawValue, 0, 0, 0, 0, 0, 0, Frame.end])
    }

    /// Writes any frame as it is (a body frame is not split).
    public mutating func writeFrame(_ frame: Frame) {
        switch frame {
        case .method(let channel, let method): self.writeMethodFrame(channel: channel, method)
        case .header(let channel, let header): self.writeContentHeaderFrame(channel: channel, header)
        case .body(let channel, let body): self.writeBodyFrame(channel: channel, body)
        case .heartbeat(let channel):
            let sizeIndex = self.beginFrame(type: .heartbeat, channel: channel)
            self.endFrame(sizeIndex: sizeIndex)
        }
    }

    /// Writes a content header frame and the body split into body frames of at most `frameMax` bytes each
    /// (frame overhead included). An empty body gets no body frame.
    /// - Parameters:
    ///   - frameMax: the negotiated frame-max; 0 means unlimited (one body frame).
    /// - Precondition: `frameMax` is 0 or larger than the 8-byte frame overhead.
    public mutating func writeContent(
        channel: UInt16, classID: UInt16 = 60, properties: BasicProperties, body: [UInt8], frameMax: UInt32
    ) {
        // Written field by field: building a `ContentHeader` would box the properties.
        let sizeIndex = self.beginFrame(type: .header, channel: channel)
        self.writeInteger(classID)
        self.writeInteger(UInt16(0))
        self.writeInteger(UInt64(body.count))
        properties.encode(into: &self)
        self.endFrame(sizeIndex: sizeIndex)
        self.writeBodyFrames(channel: channel, body: body, frameMax: frameMax)
    }

    /// Writes `body` as body frames of at most `frameMax` bytes each (0 = unlimited); nothing when empty.
    public mutating func writeBodyFrames(channel: UInt16, body: [UInt8], frameMax: UInt32) {
        precondition(frameMax == 0 || Int(frameMax) > Frame.overhead, "frame-max \(frameMax) leaves no room for a body")
        guard !body.isEmpty else { return }
        let chunk = frameMax == 0 ? Int(UInt32.max) : Int(frameMax) - Frame.overhead
        if body.count <= chunk {
            self.writeBodyFrame(channel: channel, body)
            return
        }
        self.reserveAdditionalCapacity(body.count + (body.count / chunk + 1) * Frame.overhead)
        var offset = 0
        while offset < body.count {
            let next = min(offset + chunk, body.count)
            self.writeBodyFrame(channel: channel, body[offset..<next])
            offset = next
        }
    }

    /// Writes a whole delivery — `basic.deliver` method frame, content header, body frames — straight into
    /// the buffer, without building an `AMQPMethod` or any intermediate array.
    public mutating func writeBasicDeliver(
        channel: UInt16, consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String,
        routingKey: String, properties: BasicProperties, body: [UInt8], frameMax: UInt32
    ) {
        if self.writeBasicDeliverInOnePass(channel: channel, consumerTag: consumerTag, deliveryTag: deliveryTag,
                                           redelivered: redelivered, exchange: exchange, routingKey: routingKey,
                                           properties: properties, body: body, frameMax: frameMax) {
            return
        }
        self.reserveAdditionalCapacity(64 + consumerTag.utf8.count + exchange.utf8.count
            + routingKey.utf8.count + body.count)
        let sizeIndex = self.beginFrame(type: .method, channel: channel)
        self.writeInteger(BasicDeliver.classID)
        self.writeInteger(BasicDeliver.methodID)
        self.writeShortString(consumerTag)
        self.writeInteger(deliveryTag)
        self.storage.append(redelivered ? 1 : 0)
        self.writeShortString(exchange)
        self.writeShortString(routingKey)
        self.endFrame(sizeIndex: sizeIndex)
        self.writeContent(channel: channel, properties: properties, body: body, frameMax: frameMax)
    }
}
