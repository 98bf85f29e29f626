import AOPWire

/// The deliveries one consumer got from one read of the socket, kept as ranges of the received bytes.
///
/// Reading `deliveryTag(at:)`, `redelivered(at:)` or `withBody(at:_:)` copies and allocates nothing;
/// subscripting materializes an ``AMQPDelivery`` (strings, properties and body copied out).
public struct AMQPDeliveryBatch: Sendable, RandomAccessCollection {
    let storage: [UInt8]
    let entries: [DeliveryEntry]
    /// Bodies that arrived in several body frames, joined.
    let extraBodies: [[UInt8]]

    init(storage: [UInt8], entries: [DeliveryEntry], extraBodies: [[UInt8]]) {
        self.storage = storage
        self.entries = entries
        self.extraBodies = extraBodies
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { self.entries.count }

    /// The delivery tag of message `index`.
    public func deliveryTag(at index: Int) -> UInt64 { self.entries[index].deliveryTag }

    /// Whether message `index` was delivered before.
    public func redelivered(at index: Int) -> Bool { self.entries[index].redelivered }

    /// The highest delivery tag in the batch (ack it with `multiple: true` to settle the whole batch).
    public var lastDeliveryTag: UInt64? { self.entries.last?.deliveryTag }

    /// Calls `body` with message `index`'s body bytes, without copying them.
    public func withBody<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let entry = self.entries[index]
        if entry.bodyIndex >= 0 {
            return try self.extraBodies[Int(entry.bodyIndex)].withUnsafeBytes(body)
        }
        return try self.storage.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[Int(entry.body)..<Int(entry.body + entry.bodyLength)]))
        }
    }

    /// Message `index` with its strings, properties and body copied out.
    public subscript(index: Int) -> AMQPDelivery {
        let entry = self.entries[index]
        let body: [UInt8] = self.withBody(at: index) { Array($0) }
        return self.storage.withUnsafeBytes { raw in
            var offset = Int(entry.method) + 4
            let consumerTag = Self.shortString(raw, &offset)
            offset += 9  // delivery tag, redelivered
            let exchange = Self.shortString(raw, &offset)
            let routingKey = Self.shortString(raw, &offset)
            let header = UnsafeRawBufferPointer(rebasing: raw[Int(entry.header)..<Int(entry.header + entry.headerLength)])
            return AMQPDelivery(deliveryTag: entry.deliveryTag, redelivered: entry.redelivered, exchange: exchange,
                                routingKey: routingKey, consumerTag: consumerTag,
                                properties: Self.properties(header), body: body)
        }
    }

    static func shortString(_ raw: UnsafeRawBufferPointer, _ offset: inout Int) -> String {
        let length = Int(raw[offset])
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: raw[(offset + 1)..<(offset + 1 + length)]), as: UTF8.self)
        offset += 1 + length
        return text
    }

    /// Decodes the properties of a header payload (class, weight, body size, then the properties).
    /// The scanner checked the frame; properties the codec rejects come back empty.
    static func properties(_ header: UnsafeRawBufferPointer) -> BasicProperties {
        guard header.count > 14 || (header.count == 14 && (header[12] != 0 || header[13] != 0)) else {
            return BasicProperties()
        }
        var buffer = ByteBuffer(bytes: header[12...])
        return (try? BasicProperties.decode(from: &buffer)) ?? BasicProperties()
    }
}
