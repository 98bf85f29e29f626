import AOPWire
import Testing

@Suite struct FrameEncoderTests {
    private func decodeAll(_ buffer: ByteBuffer, frameMax: UInt32) throws -> [Frame] {
        var buffer = buffer
        var decoder = FrameDecoder(maxFrameSize: frameMax)
        var frames: [Frame] = []
        while let f = try decoder.next(from: &buffer) { frames.append(f) }
        #expect(buffer.readableBytes == 0)
        return frames
    }

    @Test func heartbeatBytes() {
        var buffer = ByteBuffer()
        buffer.writeHeartbeat()
        #expect(buffer.readableBytesArray == [8, 0, 0, 0, 0, 0, 0, 0xCE])
    }

    @Test func methodFrameBytes() {
        var buffer = ByteBuffer()
        buffer.writeMethodFrame(channel: 0x0102, .channelOpenOk(ChannelOpenOk()))
        #expect(buffer.readableBytesArray == [1, 1, 2, 0, 0, 0, 8, 0, 20, 0, 11, 0, 0, 0, 0, 0xCE])
    }

    @Test(arguments: [(UInt32(4096), 10_000, 3), (4096, 4088, 1), (4096, 4089, 2), (4096, 8176, 2),
                      (4096, 8177, 3), (0, 1_000_000, 1), (4096, 0, 0), (30, 50, 3)])
    func bodyIsSplitAtFrameMax(_ frameMax: UInt32, _ size: Int, _ bodyFrames: Int) throws {
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var buffer = ByteBuffer()
        buffer.writeContent(channel: 3, properties: BasicProperties(priority: 1), body: body, frameMax: frameMax)
        let frames = try decodeAll(buffer, frameMax: frameMax)
        #expect(frames.count == 1 + bodyFrames)
        #expect(frames.first == .header(channel: 3, ContentHeader(bodySize: UInt64(size), properties: BasicProperties(priority: 1))))
        var joined: [UInt8] = []
        for case .body(let channel, let bytes) in frames.dropFirst() {
            #expect(channel == 3)
            #expect(frameMax == 0 || bytes.count + 8 <= Int(frameMax))
            #expect(!bytes.isEmpty)
            joined += bytes
        }
        #expect(joined == body)
    }

    @Test func basicDeliverFastPathMatchesTheGenericEncoder() throws {
        let properties = BasicProperties(contentType: "text/plain", headers: ["x": .int64(1)], deliveryMode: 2, timestamp: 7)
        let body = [UInt8](repeating: 0x41, count: 5000)
        var fast = ByteBuffer()
        fast.writeBasicDeliver(channel: 4, consumerTag: "ctag-1", deliveryTag: 42, redelivered: true, exchange: "ex",
                               routingKey: "rk", properties: properties, body: body, frameMax: 4096)
        var generic = ByteBuffer()
        generic.writeMethodFrame(channel: 4, .basicDeliver(BasicDeliver(consumerTag: "ctag-1", deliveryTag: 42,
                                                                        redelivered: true, exchange: "ex", routingKey: "rk")))
        generic.writeContent(channel: 4, properties: properties, body: body, frameMax: 4096)
        #expect(fast.readableBytesArray == generic.readableBytesArray)
        #expect(try decodeAll(fast, frameMax: 4096).count == 4)
    }

    @Test func writeFrameRoundTripsEveryKind() throws {
        let frames: [Frame] = [
            .method(channel: 0, .connectionCloseOk(ConnectionCloseOk())),
            .header(channel: 5, ContentHeader(bodySize: 1, properties: BasicProperties(appID: "a"))),
            .body(channel: 5, [1]),
            .body(channel: 5, []),
            .heartbeat(channel: 0),
        ]
        var buffer = ByteBuffer()
        for f in frames { buffer.writeFrame(f) }
        #expect(try decodeAll(buffer, frameMax: 4096) == frames)
    }
}

@Suite struct ContentHeaderTests {
    @Test func propertiesCanBeReadAndReplaced() {
        var header = ContentHeader(bodySize: 3)
        #expect(header.properties == BasicProperties())
        header.properties.deliveryMode = 2
        header.properties.headers = ["a": 1]
        #expect(header.properties == BasicProperties(headers: ["a": 1], deliveryMode: 2))
        #expect(header != ContentHeader(bodySize: 3))
        #expect(header == ContentHeader(bodySize: 3, properties: BasicProperties(headers: ["a": 1], deliveryMode: 2)))
    }

    @Test func equalHeadersHashEqually() {
        let a = ContentHeader(classID: 60, weight: 0, bodySize: 9, properties: BasicProperties(appID: "x"))
        let b = ContentHeader(classID: 60, weight: 0, bodySize: 9, properties: BasicProperties(appID: "x"))
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(a != ContentHeader(classID: 60, weight: 0, bodySize: 8, properties: BasicProperties(appID: "x")))
        #expect(a != ContentHeader(classID: 60, weight: 1, bodySize: 9, properties: BasicProperties(appID: "x")))
    }

    @Test func encodeMatchesWriteContent() {
        let properties = BasicProperties(contentType: "a", priority: 1)
        var viaHeader = ByteBuffer()
        viaHeader.writeContentHeaderFrame(channel: 2, ContentHeader(bodySize: 2, properties: properties))
        viaHeader.writeBodyFrame(channel: 2, [1, 2])
        var viaContent = ByteBuffer()
        viaContent.writeContent(channel: 2, properties: properties, body: [1, 2], frameMax: 4096)
        #expect(viaHeader.readableBytesArray == viaContent.readableBytesArray)
    }
}
