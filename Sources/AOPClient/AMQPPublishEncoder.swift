public import AOPWire

/// Encodes publishes ahead of time for ``AMQPClientChannel/publish(encoded:count:)``: the frames of one
/// message (method, header, body) are built once as a template and appended many times, with an optional
/// per-message patch of the body's first bytes (a timestamp, a counter).
public struct AMQPPublishEncoder: Sendable {
    /// The encoded frames of one publish.
    public let template: [UInt8]
    /// Offset of the body's first byte in `template`.
    public let bodyOffset: Int
    public let bodyCount: Int

    /// - Parameters:
    ///   - channel: the channel number the frames are for (the channel's `id`).
    ///   - frameMax: the connection's negotiated frame-max (bodies are split at it).
    public init(channel: UInt16, exchange: String, routingKey: String, body: [UInt8],
                properties: BasicProperties = BasicProperties(), mandatory: Bool = false, frameMax: UInt32) {
        var buffer = ByteBuffer(capacity: 64 + body.count)
        buffer.writeMethodFrame(channel: channel, .basicPublish(BasicPublish(exchange: exchange, routingKey: routingKey,
                                                                             mandatory: mandatory)))
        buffer.writeContent(channel: channel, properties: properties, body: body, frameMax: frameMax)
        self.template = buffer.storage
        self.bodyCount = body.count
        // With one body frame the body ends 1 byte (frame-end) before the template's end.
        let chunk = frameMax == 0 ? Int.max : Int(frameMax) - 8
        self.bodyOffset = body.count <= chunk ? self.template.count - 1 - body.count : -1
    }

    /// Appends `count` copies of the template to `output`.
    public func append(count: Int, to output: inout [UInt8]) {
        output.reserveCapacity(output.count + count * self.template.count)
        for _ in 0..<count { output.append(contentsOf: self.template) }
    }

    /// Appends one copy whose body starts with `prefix` (the body must be at least that long and fit in
    /// one body frame).
    public func append(bodyPrefix prefix: UInt64, to output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: self.template)
        precondition(self.bodyOffset >= 0 && self.bodyCount >= 8, "the body must fit one frame and hold 8 bytes")
        output.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: prefix.littleEndian, toByteOffset: start + self.bodyOffset, as: UInt64.self)
        }
    }
}
