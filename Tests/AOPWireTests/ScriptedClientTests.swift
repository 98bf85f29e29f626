import AOPTestSupport
import AOPWire
import Testing

@Suite struct ScriptedClientTests {
    @Test func buildsAHandshakeAServerCanDecode() throws {
        var client = ScriptedClient()
        client.sendProtocolHeader()
        client.sendStartOk(username: "guest", password: "pw")
        client.sendTuneOk(channelMax: 2047, frameMax: 131_072, heartbeat: 60)
        client.sendOpen(virtualHost: "/")
        client.send(.channelOpen(ChannelOpen()), channel: 1)
        client.publish(channel: 1, routingKey: "q", body: [UInt8](repeating: 1, count: 200_000))
        var bytes = client.takeOutbound()
        #expect(client.outbound.readableBytes == 0)
        #expect(bytes.readProtocolHeader() == .ok)
        var decoder = FrameDecoder(maxFrameSize: 131_072)
        var frames: [Frame] = []
        while let f = try decoder.next(from: &bytes) { frames.append(f) }
        guard case .method(0, .connectionStartOk(let startOk)) = frames.first else {
            Issue.record("expected start-ok, got \(String(describing: frames.first))")
            return
        }
        #expect(startOk.mechanism == "PLAIN")
        #expect(startOk.response == [0] + Array("guest".utf8) + [0] + Array("pw".utf8))
        #expect(frames[3] == .method(channel: 1, .channelOpen(ChannelOpen())))
        #expect(frames.count == 4 + 1 + 1 + 2)  // … publish, header, two body frames
    }

    @Test func decodesWhatAServerSends() throws {
        var server = ByteBuffer()
        server.writeMethodFrame(channel: 0, .connectionStart(ConnectionStart(
            versionMajor: 0, versionMinor: 9, serverProperties: ["product": "aop"], mechanisms: Array("PLAIN".utf8),
            locales: Array("en_US".utf8))))
        server.writeBasicDeliver(channel: 1, consumerTag: "c", deliveryTag: 1, redelivered: false, exchange: "",
                                 routingKey: "q", properties: .init(), body: [1, 2, 3], frameMax: 4096)
        server.writeHeartbeat()
        var client = ScriptedClient()
        var received: [ScriptedClient.Received] = []
        for byte in server.readableBytesArray { received += try client.receive([byte]) }
        #expect(received.count == 3)
        #expect(received[1] == .content(channel: 1, .basicDeliver(BasicDeliver(
            consumerTag: "c", deliveryTag: 1, exchange: "", routingKey: "q")), ContentHeader(bodySize: 3), body: [1, 2, 3]))
        #expect(received[2] == .heartbeat)
    }

    @Test func reportsARefusingProtocolHeader() throws {
        var client = ScriptedClient()
        #expect(try client.receive(ProtocolHeader.bytes) == [.protocolHeader(ProtocolHeader.bytes)])
    }
}
