@testable import AOPWire
import Testing

/// `writeBasicDeliver`'s one-pass encoder against the field-by-field frame encoder, byte for byte.
@Suite struct OnePassDeliverTests {
    static let long = String(repeating: "é", count: 200)   // 400 UTF-8 bytes: over a short string's 255

    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var properties: BasicProperties
        var size: Int
        var frameMax: UInt32
        init(_ label: String, _ properties: BasicProperties, _ size: Int, _ frameMax: UInt32) {
            (self.label, self.properties, self.size, self.frameMax) = (label, properties, size, frameMax)
        }
        var testDescription: String { self.label }
    }

    static let cases: [Case] = [
        Case("empty properties, 16 B", BasicProperties(), 16, 131_072),
        Case("empty properties, empty body", BasicProperties(), 0, 131_072),
        Case("delivery mode and content type", BasicProperties(contentType: "application/json", deliveryMode: 1), 300, 4096),
        Case("every non-table property", BasicProperties(
            contentType: "t", contentEncoding: "gzip", deliveryMode: 2, priority: 9, correlationID: "c-1",
            replyTo: "amq.rabbitmq.reply-to", expiration: "60000", messageID: "m", timestamp: 1_700_000_000,
            type: "ty", userID: "guest", appID: "a", clusterID: "cl"), 1000, 0),
        Case("unicode strings", BasicProperties(messageID: "ünï€ødé", appID: "日本"), 5, 4096),
        Case("body exactly one frame", BasicProperties(priority: 1), 4088, 4096),
        // Not one-pass: the field-by-field encoder writes these.
        Case("body one byte over a frame", BasicProperties(priority: 1), 4089, 4096),
        Case("headers table", BasicProperties(headers: ["x": .int64(1)]), 10, 4096),
        Case("property over 255 bytes", BasicProperties(correlationID: long), 10, 4096),
    ]

    @Test(arguments: cases)
    func sameBytesAsTheFrameEncoder(_ c: Case) {
        let (label, properties, size, frameMax) = (c.label, c.properties, c.size, c.frameMax)
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        for (tag, exchange, key) in [("ctag", "", "q"), ("amq.ctag-" + String(repeating: "z", count: 40), "ex.ç", Self.long)] {
            var buffer = ByteBuffer()
            buffer.writeInteger(UInt8(0xAA))   // not at offset 0: the one-pass writer appends
            buffer.writeBasicDeliver(channel: 7, consumerTag: tag, deliveryTag: 1 << 40, redelivered: true,
                                     exchange: exchange, routingKey: key, properties: properties, body: body,
                                     frameMax: frameMax)
            var expected = ByteBuffer()
            expected.writeInteger(UInt8(0xAA))
            expected.writeMethodFrame(channel: 7, .basicDeliver(BasicDeliver(
                consumerTag: tag, deliveryTag: 1 << 40, redelivered: true, exchange: exchange, routingKey: key)))
            expected.writeContent(channel: 7, properties: properties, body: body, frameMax: frameMax)
            #expect(buffer.readableBytesArray == expected.readableBytesArray, "\(label)")
        }
    }

    @Test func onePassIsTakenOnlyInTheCommonCase() {
        var buffer = ByteBuffer()
        let common = buffer.writeBasicDeliverInOnePass(channel: 1, consumerTag: "c", deliveryTag: 1, redelivered: false,
                                                       exchange: "", routingKey: "q", properties: BasicProperties(),
                                                       body: [1, 2], frameMax: 4096)
        #expect(common)
        let before = buffer.readableBytes
        let withHeaders = buffer.writeBasicDeliverInOnePass(channel: 1, consumerTag: "c", deliveryTag: 1,
                                                            redelivered: false, exchange: "", routingKey: "q",
                                                            properties: BasicProperties(headers: [:]), body: [1],
                                                            frameMax: 4096)
        #expect(!withHeaders)
        #expect(buffer.readableBytes == before)
    }
}
