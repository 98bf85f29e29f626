import AOPWire
import Testing

@Suite struct FrameDecoderTests {
    static let properties = BasicProperties(contentType: "application/json", headers: ["k": "v"], deliveryMode: 2)

    /// A publish (method, header, 2 body frames), an ack on another channel, and a heartbeat.
    static func sampleStream() -> (ByteBuffer, [Frame]) {
        var buffer = ByteBuffer()
        let publish = AMQPMethod.basicPublish(BasicPublish(exchange: "amq.direct", routingKey: "rk"))
        let body = (0..<300).map { UInt8(truncatingIfNeeded: $0) }
        buffer.writeMethodFrame(channel: 1, publish)
        buffer.writeContent(channel: 1, properties: properties, body: body, frameMax: 208)
        buffer.writeMethodFrame(channel: 2, .basicAck(BasicAck(deliveryTag: 9, multiple: true)))
        buffer.writeHeartbeat()
        let frames: [Frame] = [
            .method(channel: 1, publish),
            .header(channel: 1, ContentHeader(bodySize: 300, properties: properties)),
            .body(channel: 1, Array(body[0..<200])),
            .body(channel: 1, Array(body[200...])),
            .method(channel: 2, .basicAck(BasicAck(deliveryTag: 9, multiple: true))),
            .heartbeat(channel: 0),
        ]
        return (buffer, frames)
    }

    @Test func manyFramesInOneBuffer() throws {
        var (buffer, expected) = Self.sampleStream()
        var decoder = FrameDecoder(maxFrameSize: 208)
        var frames: [Frame] = []
        while let frame = try decoder.next(from: &buffer) { frames.append(frame) }
        #expect(frames == expected)
        #expect(buffer.readableBytes == 0)
    }

    @Test func dripFedByteByByte() throws {
        let (whole, expected) = Self.sampleStream()
        var decoder = FrameDecoder(maxFrameSize: 208)
        var buffer = ByteBuffer()
        var frames: [Frame] = []
        for byte in whole.readableBytesArray {
            buffer.writeInteger(byte)
            let before = buffer.readerIndex
            if let frame = try decoder.next(from: &buffer) {
                frames.append(frame)
            } else {
                #expect(buffer.readerIndex == before)  // "need more" consumes nothing
            }
        }
        #expect(frames == expected)
        #expect(try decoder.next(from: &buffer) == nil)
    }

    @Test func reencodingDecodedFramesGivesTheSameBytes() throws {
        var (buffer, _) = Self.sampleStream()
        let original = buffer.readableBytesArray
        var decoder = FrameDecoder(maxFrameSize: 0)
        var out = ByteBuffer()
        while let frame = try decoder.next(from: &buffer) { out.writeFrame(frame) }
        #expect(out.readableBytesArray == original)
    }

    private func bodyFrame(payload: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeBodyFrame(channel: 1, [UInt8](repeating: 7, count: payload))
        return buffer
    }

    @Test func frameOfExactlyFrameMaxIsAccepted() throws {
        var buffer = bodyFrame(payload: 4096 - 8)
        var decoder = FrameDecoder(maxFrameSize: 4096)
        let frame = try decoder.next(from: &buffer)
        #expect(frame == .body(channel: 1, [UInt8](repeating: 7, count: 4088)))
    }

    @Test func frameOneByteOverFrameMaxIsFrameError() {
        var buffer = bodyFrame(payload: 4096 - 7)
        var decoder = FrameDecoder(maxFrameSize: 4096)
        let error = #expect(throws: AMQPError.self) { try decoder.next(from: &buffer) }
        #expect(error?.code.replyCode == 501)
    }

    @Test func oversizedFrameIsRejectedFromItsHeaderAlone() {
        var buffer = ByteBuffer(bytes: [3, 0, 1, 0, 1, 0, 0])  // claims 65536 bytes; none sent yet
        var decoder = FrameDecoder(maxFrameSize: 4096)
        let error = #expect(throws: AMQPError.self) { try decoder.next(from: &buffer) }
        #expect(error?.code == .frameError)
    }

    @Test func frameMaxZeroMeansUnlimited() throws {
        var buffer = bodyFrame(payload: 200_000)
        var decoder = FrameDecoder(maxFrameSize: 0)
        #expect(try decoder.next(from: &buffer) != nil)
    }

    @Test func badFrameEndIsFrameError() {
        var buffer = ByteBuffer()
        buffer.writeHeartbeat()
        var bytes = buffer.readableBytesArray
        bytes[7] = 0xCD
        var bad = ByteBuffer(bytes: bytes)
        var decoder = FrameDecoder(maxFrameSize: 4096)
        let error = #expect(throws: AMQPError.self) { try decoder.next(from: &bad) }
        #expect(error?.code == .frameError)
    }

    @Test(arguments: [UInt8(0), 4, 9, 65, 255])
    func unknownFrameTypeIsFrameError(_ type: UInt8) {
        var buffer = ByteBuffer(bytes: [type, 0, 1, 0, 0, 0, 1, 0, 0xCE])
        var decoder = FrameDecoder(maxFrameSize: 4096)
        let error = #expect(throws: AMQPError.self) { try decoder.next(from: &buffer) }
        #expect(error?.code == .frameError)
    }

    @Test func heartbeatOnNonZeroChannelIsFrameError() {
        var buffer = ByteBuffer(bytes: [8, 0, 3, 0, 0, 0, 0, 0xCE])
        var decoder = FrameDecoder(maxFrameSize: 4096)
        let error = #expect(throws: AMQPError.self) { try decoder.next(from: &buffer) }
        #expect(error?.code.replyCode == 501)
    }

    @Test func heartbeatWithPayloadIsFrameError() {
        var buffer = ByteBuffer(bytes: [8, 0, 0, 0, 0, 0, 1, 0, 0xCE])
        var decoder = FrameDecoder(maxFrameSize: 4096)
        let error = #expect(throws: AMQPError.self) { try decoder.next(from: &buffer) }
        #expect(error?.code == .frameError)
    }

    @Test func truncatedMethodInsideACompleteFrameIsFrameError() {
        // basic.ack needs 9 argument bytes; the frame holds 4 + 2.
        var buffer = ByteBuffer(bytes: [1, 0, 1, 0, 0, 0, 6, 0, 60, 0, 80, 0, 0, 0xCE])
        var decoder = FrameDecoder(maxFrameSize: 4096)
        let error = #expect(throws: AMQPError.self) { try decoder.next(from: &buffer) }
        #expect(error?.code == .frameError)
        #expect(error?.classID == 60 && error?.methodID == 80)
    }

    @Test func unknownMethodInAFrameIsNotImplemented() {
        var buffer = ByteBuffer(bytes: [1, 0, 1, 0, 0, 0, 4, 0, 60, 0, 99, 0xCE])
        var decoder = FrameDecoder(maxFrameSize: 4096)
        let error = #expect(throws: AMQPError.self) { try decoder.next(from: &buffer) }
        #expect(error?.code.replyCode == 540)
    }

    @Test func shortContentHeaderIsFrameError() {
        var buffer = ByteBuffer(bytes: [2, 0, 1, 0, 0, 0, 4, 0, 60, 0, 0, 0xCE])
        var decoder = FrameDecoder(maxFrameSize: 4096)
        let error = #expect(throws: AMQPError.self) { try decoder.next(from: &buffer) }
        #expect(error?.code == .frameError)
    }

    @Test func headerOfANonBasicClassKeepsEmptyProperties() throws {
        var payload = ByteBuffer()
        payload.writeInteger(UInt16(50))
        payload.writeInteger(UInt16(0))
        payload.writeInteger(UInt64(3))
        payload.writeBytes([0xAA, 0xBB])
        var buffer = ByteBuffer()
        buffer.writeBytes([2, 0, 1])
        buffer.writeInteger(UInt32(payload.readableBytes))
        buffer.writeBuffer(&payload)
        buffer.writeInteger(UInt8(0xCE))
        var decoder = FrameDecoder(maxFrameSize: 4096)
        #expect(try decoder.next(from: &buffer) == .header(channel: 1, ContentHeader(classID: 50, bodySize: 3)))
    }

    @Test func protocolHeaderCheck() {
        #expect(ProtocolHeader.check(ProtocolHeader.bytes) == .ok)
        #expect(ProtocolHeader.check(ProtocolHeader.amqp09Bytes) == .ok)
        #expect(ProtocolHeader.check([UInt8]()) == .needMore)
        #expect(ProtocolHeader.check(Array("AMQP".utf8)) == .needMore)
        #expect(ProtocolHeader.check(Array("AMQP".utf8) + [0, 0, 9]) == .needMore)
        #expect(ProtocolHeader.check(Array("GET ".utf8)) == .mismatch)
        #expect(ProtocolHeader.check([0x16, 0x03, 0x01]) == .mismatch)
        #expect(ProtocolHeader.check(Array("AMQP".utf8) + [0, 1, 0, 0]) == .mismatch)  // AMQP 1.0
        #expect(ProtocolHeader.check(Array("AMQP".utf8) + [0, 0, 9, 0]) == .mismatch)
    }

    @Test func readProtocolHeaderConsumesOnlyWhenOK() throws {
        var buffer = ByteBuffer(bytes: Array("AMQP".utf8))
        #expect(buffer.readProtocolHeader() == .needMore)
        #expect(buffer.readerIndex == 0)
        buffer.writeBytes([0, 0, 9, 1])
        buffer.writeHeartbeat()
        #expect(buffer.readProtocolHeader() == .ok)
        #expect(buffer.readerIndex == 8)
        var decoder = FrameDecoder(maxFrameSize: 4096)
        #expect(try decoder.next(from: &buffer) == .heartbeat(channel: 0))
    }
}
