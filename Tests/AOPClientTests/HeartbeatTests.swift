import AOPClient
import AOPIO
import AOPWire
import Testing

@Suite struct HeartbeatTests {
    /// With a 1 s heartbeat the client sends heartbeats, and drops a server that stays silent for 2 s.
    @Test func heartbeatsAreSentAndASilentServerIsDropped() async throws {
        let loop = try RingLoop(name: "scripted")
        defer { loop.shutdown() }
        let server = try ScriptedServer(loop: loop)
        let serving = Task { try await server.acceptAndHandshake(heartbeat: 1) }
        let connection = try await AMQPClientConnection.connect(AMQPClientConfiguration(port: server.port, heartbeat: 5))
        try await serving.value
        #expect(await connection.heartbeat == 1)
        let clock = ContinuousClock()
        let start = clock.now
        let frame = try await server.nextFrame()
        #expect(frame == .heartbeat(channel: 0))
        let closed = await connection.waitUntilClosed()
        #expect(closed.code == .transport)
        let elapsed = clock.now - start
        #expect(elapsed >= .milliseconds(1500) && elapsed < .seconds(10))
        await server.close()
    }

    /// A server that accepts the TCP connection but never speaks AMQP: connect gives up at the timeout.
    @Test func handshakeTimesOut() async throws {
        let loop = try RingLoop(name: "scripted")
        defer { loop.shutdown() }
        let server = try ScriptedServer(loop: loop)
        let accepting = Task { await server.accept() }
        var configuration = AMQPClientConfiguration(port: server.port)
        configuration.connectTimeout = .milliseconds(300)
        let error = await expectClientError { _ = try await AMQPClientConnection.connect(configuration) }
        #expect(error?.code == .handshakeFailed)
        await accepting.value
        await server.close()
    }
}
