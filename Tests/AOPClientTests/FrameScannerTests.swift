@testable import AOPClient
import AOPWire
import Testing

@Suite struct FrameScannerTests {
    /// A method, a delivery with a two-frame body, a heartbeat and a confirm, back to back.
    static func stream() -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeMethodFrame(channel: 1, .basicQosOk(BasicQosOk()))
        buffer.writeBasicDeliver(channel: 1, consumerTag: "c", deliveryTag: 7, redelivered: true, exchange: "x",
                                 routingKey: "k", properties: BasicProperties(contentType: "t"),
                                 body: Array(repeating: 9, count: 30), frameMax: 24)
        buffer.writeHeartbeat()
        buffer.writeMethodFrame(channel: 1, .basicAck(BasicAck(deliveryTag: 3, multiple: true)))
        return buffer.storage
    }

    static func scanAll(_ bytes: [UInt8]) throws -> (units: [InboundUnit], consumed: Int) {
        let scanner = FrameScanner(maxFrameSize: 0)
        var offset = 0
        var units: [InboundUnit] = []
        try bytes.withUnsafeBytes { raw in
            while true {
                let unit = try scanner.next(in: raw, offset: &offset)
                if unit == .needMore { return }
                units.append(unit)
            }
        }
        return (units, offset)
    }

    @Test func scansWholeStream() throws {
        let bytes = Self.stream()
        let (units, consumed) = try Self.scanAll(bytes)
        #expect(consumed == bytes.count)
        #expect(units.count == 4)
        guard case .method(1, 60, 11, _) = units[0] else { Issue.record("qos-ok expected: \(units[0])"); return }
        guard case .content(let span) = units[1] else { Issue.record("content expected"); return }
        #expect(span.methodID == 60)
        guard case .pieces(let pieces) = span.body else { Issue.record("split body expected"); return }
        #expect(pieces.reduce(0) { $0 + $1.count } == 30)
        #expect(units[2] == .heartbeat)
        guard case .method(1, 60, 80, _) = units[3] else { Issue.record("ack expected"); return }
    }

    /// Every prefix of the stream yields only whole units and consumes nothing of a partial one.
    @Test func dripFedPrefixesNeverSplitAUnit() throws {
        let bytes = Self.stream()
        let (whole, _) = try Self.scanAll(bytes)
        var boundaries: [Int] = []
        var offset = 0
        let scanner = FrameScanner(maxFrameSize: 0)
        try bytes.withUnsafeBytes { raw in
            while try scanner.next(in: raw, offset: &offset) != .needMore { boundaries.append(offset) }
        }
        for length in 0...bytes.count {
            let (units, consumed) = try Self.scanAll(Array(bytes.prefix(length)))
            let expected = boundaries.filter { $0 <= length }
            #expect(units.count == expected.count)
            #expect(consumed == (expected.last ?? 0))
            #expect(Array(units) == Array(whole.prefix(units.count)))
        }
    }

    @Test func badFrameEndAndOversizedFramesAreProtocolViolations() {
        var bytes = Self.stream()
        bytes[11] = 0  // frame-end of the 12-byte qos-ok frame
        #expect(throws: AMQPClientError.self) { _ = try Self.scanAll(bytes) }
        let scanner = FrameScanner(maxFrameSize: 10)
        #expect(throws: AMQPClientError.self) {
            var offset = 0
            _ = try Self.stream().withUnsafeBytes { try scanner.next(in: $0, offset: &offset) }
        }
    }

    @Test func batchMaterializesDeliveries() throws {
        var buffer = ByteBuffer()
        buffer.writeBasicDeliver(channel: 1, consumerTag: "ctag", deliveryTag: 42, redelivered: true, exchange: "ex",
                                 routingKey: "rk", properties: BasicProperties(messageID: "id"), body: [1, 2, 3],
                                 frameMax: 0)
        let bytes = buffer.storage
        let (units, _) = try Self.scanAll(bytes)
        guard case .content(let span) = units.first, case .contiguous(let body) = span.body else {
            Issue.record("content expected")
            return
        }
        let entry = DeliveryEntry(method: Int32(span.method.lowerBound), header: Int32(span.header.lowerBound),
                                  headerLength: Int32(span.header.count), body: Int32(body.lowerBound),
                                  bodyLength: Int32(body.count), bodyIndex: -1, redelivered: true, deliveryTag: 42)
        let batch = AMQPDeliveryBatch(storage: bytes, entries: [entry], extraBodies: [])
        #expect(batch.count == 1)
        #expect(batch.lastDeliveryTag == 42)
        #expect(batch[0] == AMQPDelivery(deliveryTag: 42, redelivered: true, exchange: "ex", routingKey: "rk",
                                         consumerTag: "ctag", properties: BasicProperties(messageID: "id"), body: [1, 2, 3]))
    }
}
