import AOPClient
import AOPWire
import Testing

@Suite struct PublishEncoderTests {
    /// The template is exactly what FrameEncoder writes for the same publish, and the body prefix lands
    /// in the body.
    @Test func templateMatchesTheCodecAndPatchesTheBody() throws {
        let body: [UInt8] = Array(0..<24)
        let properties = BasicProperties(contentType: "application/octet-stream", deliveryMode: 2)
        let encoder = AMQPPublishEncoder(channel: 3, exchange: "x", routingKey: "k", body: body, properties: properties,
                                         mandatory: true, frameMax: 131_072)
        var expected = ByteBuffer()
        expected.writeMethodFrame(channel: 3, .basicPublish(BasicPublish(exchange: "x", routingKey: "k", mandatory: true)))
        expected.writeContent(channel: 3, properties: properties, body: body, frameMax: 131_072)
        #expect(encoder.template == expected.storage)
        #expect(Array(encoder.template[encoder.bodyOffset..<(encoder.bodyOffset + body.count)]) == body)

        var output: [UInt8] = []
        encoder.append(bodyPrefix: 0x0102_0304_0506_0708, to: &output)
        encoder.append(count: 2, to: &output)
        #expect(output.count == 3 * encoder.template.count)
        let patched = Array(output[encoder.bodyOffset..<(encoder.bodyOffset + 8)])
        #expect(patched == [8, 7, 6, 5, 4, 3, 2, 1])  // little-endian
        #expect(Array(output[encoder.template.count...]) == encoder.template + encoder.template)
    }

    @Test func bodiesSplitAcrossFramesHaveNoSingleBodyOffset() {
        let encoder = AMQPPublishEncoder(channel: 1, exchange: "", routingKey: "q",
                                         body: [UInt8](repeating: 1, count: 10_000), frameMax: 4096)
        #expect(encoder.bodyOffset == -1)
        var expected = ByteBuffer()
        expected.writeMethodFrame(channel: 1, .basicPublish(BasicPublish(exchange: "", routingKey: "q")))
        expected.writeContent(channel: 1, properties: BasicProperties(), body: [UInt8](repeating: 1, count: 10_000),
                              frameMax: 4096)
        #expect(encoder.template == expected.storage)
    }
}
