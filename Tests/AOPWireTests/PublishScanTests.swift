import AOPWire
import Testing

/// `FrameDecoder.scanPublish`, the publish fast path: a whole publish read in one pass, or nil with the
/// frame-by-frame path (decoder + assembler) left to take the same bytes.
@Suite struct PublishScanTests {
    private func publishBytes(channel: UInt16 = 3, exchange: String = "ex", key: String = "rk",
                              mandatory: Bool = true, properties: BasicProperties = BasicProperties(deliveryMode: 2),
                              body: [UInt8] = Array("hello".utf8), frameMax: UInt32 = 4096) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeMethodFrame(channel: channel, .basicPublish(BasicPublish(exchange: exchange, routingKey: key,
                                                                              mandatory: mandatory)))
        buffer.writeContent(channel: channel, properties: properties, body: body, frameMax: frameMax)
        return buffer
    }

    /// What the frame-by-frame path assembles from the same bytes.
    private func assembled(_ bytes: ByteBuffer) throws -> (BasicPublish, ContentHeader, [UInt8])? {
        var buffer = bytes
        var decoder = FrameDecoder(maxFrameSize: 4096)
        var assembler = CommandAssembler(maxBodySize: 1 << 20)
        while let frame = try decoder.next(from: &buffer) {
            if case .content(.basicPublish(let p), let header, let body) = try assembler.process(frame) {
                return (p, header, body)
            }
        }
        return nil
    }

    @Test(arguments: [BasicProperties(), BasicProperties(deliveryMode: 2),
                      BasicProperties(contentType: "a/b", headers: ["k": .longString(Array("v".utf8))], priority: 3)])
    func readsWhatTheAssemblerWould(_ properties: BasicProperties) throws {
        for body in [[UInt8](), Array("x".utf8), [UInt8](repeating: 9, count: 4000)] {
            let bytes = publishBytes(properties: properties, body: body)
            let decoder = FrameDecoder(maxFrameSize: 4096)
            let scanned = try #require(decoder.scanPublish(bytes, maxBodySize: 1 << 20))
            let (publish, header, assembledBody) = try #require(try assembled(bytes))
            #expect(scanned.channel == 3)
            #expect(scanned.publish == publish)
            #expect(scanned.properties == header.properties)
            #expect(scanned.body == assembledBody)
            #expect(scanned.byteCount == bytes.readableBytes)
            #expect(FrameDecoder.publishChannel(in: bytes) == 3)
        }
    }

    @Test func stopsAtTheEndOfThePublishAndStartsAtTheReaderIndex() throws {
        var bytes = ByteBuffer()
        bytes.writeHeartbeat()
        var first = publishBytes(body: [1])
        bytes.writeBuffer(&first)
        let publishLength = bytes.readableBytes - 8
        var second = publishBytes(body: [2])
        bytes.writeBuffer(&second)
        #expect(FrameDecoder.publishChannel(in: bytes) == nil)   // a heartbeat comes first
        bytes.moveReaderIndex(forwardBy: 8)
        let scanned = try #require(FrameDecoder(maxFrameSize: 4096).scanPublish(bytes, maxBodySize: 100))
        #expect(scanned.body == [1])
        #expect(scanned.byteCount == publishLength)
    }

    @Test func everyIncompletePrefixIsLeftAlone() {
        let bytes = publishBytes().readableBytesArray
        let decoder = FrameDecoder(maxFrameSize: 4096)
        for n in 0..<bytes.count {
            #expect(decoder.scanPublish(ByteBuffer(bytes: bytes.prefix(n)), maxBodySize: 100) == nil, "prefix \(n)")
        }
        #expect(decoder.scanPublish(ByteBuffer(bytes: bytes), maxBodySize: 100) != nil)
    }

    @Test func leavesEveryUnusualCaseToTheFrameByFramePath() {
        let decoder = FrameDecoder(maxFrameSize: 4096)
        // A body split over two frames.
        #expect(decoder.scanPublish(publishBytes(body: [UInt8](repeating: 1, count: 5000)), maxBodySize: 1 << 20) == nil)
        // A body over the limit.
        #expect(decoder.scanPublish(publishBytes(body: [1, 2, 3]), maxBodySize: 2) == nil)
        // A frame over frame-max.
        #expect(FrameDecoder(maxFrameSize: 20).scanPublish(publishBytes(), maxBodySize: 100) == nil)
        var bytes = publishBytes().readableBytesArray
        // A bad frame-end octet on the header frame.
        let methodLength = 8 + Int(UInt32(bigEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 3, as: UInt32.self) }))
        var badEnd = bytes
        let headerLength = 8 + Int(UInt32(bigEndian: badEnd.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: methodLength + 3, as: UInt32.self) }))
        badEnd[methodLength + headerLength - 1] = 0
        #expect(decoder.scanPublish(ByteBuffer(bytes: badEnd), maxBodySize: 100) == nil)
        // A header frame on another channel.
        var otherChannel = bytes
        otherChannel[methodLength + 2] = 9
        #expect(decoder.scanPublish(ByteBuffer(bytes: otherChannel), maxBodySize: 100) == nil)
        // A header with a weight.
        bytes[methodLength + 7 + 3] = 1
        #expect(decoder.scanPublish(ByteBuffer(bytes: bytes), maxBodySize: 100) == nil)
        // Another method.
        var other = ByteBuffer()
        other.writeMethodFrame(channel: 1, .basicAck(BasicAck(deliveryTag: 1, multiple: false)))
        #expect(FrameDecoder.publishChannel(in: other) == nil)
        #expect(decoder.scanPublish(other, maxBodySize: 100) == nil)
    }
}
