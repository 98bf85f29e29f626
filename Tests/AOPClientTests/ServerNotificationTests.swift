import AOPClient
import AOPIO
import AOPWire
import Testing

@Suite struct ServerNotificationTests {
    /// connection.blocked / unblocked arrive as notifications; a server channel.flow is answered with
    /// flow-ok; a server connection.close fails pending calls with its reply code and is answered.
    @Test func blockedFlowAndServerClose() async throws {
        let loop = try RingLoop(name: "scripted")
        defer { loop.shutdown() }
        let server = try ScriptedServer(loop: loop)
        let serving = Task { try await server.acceptAndHandshake() }
        let connection = try await AMQPClientConnection.connect(AMQPClientConfiguration(port: server.port, heartbeat: 0))
        try await serving.value

        var notifications = connection.blockedNotifications.makeAsyncIterator()
        await server.send(.connectionBlocked(ConnectionBlocked(reason: "low on memory")))
        #expect(try await notifications.next() == .blocked(reason: "low on memory"))
        #expect(await connection.isBlocked)
        await server.send(.connectionUnblocked(ConnectionUnblocked()))
        #expect(try await notifications.next() == .unblocked)
        #expect(await !connection.isBlocked)

        async let opened = connection.openChannel()
        let open = try await server.nextMethod()
        await server.send(.channelOpenOk(ChannelOpenOk()), channel: open.channel)
        let channel = try await opened

        await server.send(.channelFlow(ChannelFlow(active: false)), channel: open.channel)
        let flowOk = try await server.nextMethod()
        #expect(flowOk.channel == open.channel)
        #expect(flowOk.method == .channelFlowOk(ChannelFlowOk(active: false)))

        // A request the server answers with connection.close.
        let declared = Task { try await channel.queueDeclare("q") }
        _ = try await server.nextMethod()
        await server.send(.connectionClose(ConnectionClose(replyCode: 320, replyText: "CONNECTION_FORCED - shutdown",
                                                           classID: 0, methodID: 0)))
        let closeOk = try await server.nextMethod()
        #expect(closeOk.method == .connectionCloseOk(ConnectionCloseOk()))
        let error = await expectClientError { _ = try await declared.value }
        #expect(error?.code == .connectionClosedByServer)
        #expect(error?.replyCode == 320)
        #expect(error?.replyText == "CONNECTION_FORCED - shutdown")
        // The notification sequence ends with the connection's error.
        let ended = await expectClientError { _ = try await notifications.next() }
        #expect(ended?.replyCode == 320)
        let closed = await connection.waitUntilClosed()
        #expect(closed.replyCode == 320)
        await server.close()
    }

    /// A frame the client cannot accept closes the connection with a protocol violation.
    @Test func badFrameIsAProtocolViolation() async throws {
        let loop = try RingLoop(name: "scripted")
        defer { loop.shutdown() }
        let server = try ScriptedServer(loop: loop)
        let serving = Task { try await server.acceptAndHandshake() }
        let connection = try await AMQPClientConnection.connect(AMQPClientConfiguration(port: server.port, heartbeat: 0))
        try await serving.value
        await server.sendRaw([1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 41, 0x00])  // frame-end octet 0 instead of 0xCE
        let closed = await connection.waitUntilClosed()
        #expect(closed.code == .protocolViolation)
        // The client tells the server why before it closes.
        let close = try await server.nextMethod()
        guard case .connectionClose(let reason) = close.method else {
            Issue.record("expected connection.close, got \(close.method)")
            return
        }
        #expect(reason.replyCode == 505)
        await server.close()
    }
}
