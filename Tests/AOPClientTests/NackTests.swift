import AOPClient
import AOPIO
import AOPWire
import Testing

@Suite struct NackTests {
    /// basic.nack (single and multiple) settles publishes as nacked: the confirm events say so,
    /// waitForConfirms returns false once, and the counts add up.
    @Test func nacksAreReported() async throws {
        let loop = try RingLoop(name: "scripted")
        defer { loop.shutdown() }
        let server = try ScriptedServer(loop: loop)
        let serving = Task { try await server.acceptAndHandshake() }
        let connection = try await AMQPClientConnection.connect(AMQPClientConfiguration(port: server.port, heartbeat: 0))
        try await serving.value

        let opening = Task { try await connection.openChannel() }
        let open = try await server.nextMethod()
        await server.send(.channelOpenOk(ChannelOpenOk()), channel: open.channel)
        let channel = try await opening.value
        let selecting = Task { try await channel.confirmSelect() }
        _ = try await server.nextMethod()
        await server.send(.confirmSelectOk(ConfirmSelectOk()), channel: open.channel)
        try await selecting.value
        let confirms = try await channel.confirms()

        for i in 1...4 {
            #expect(try await channel.basicPublish(routingKey: "q", body: [UInt8(i)]) == UInt64(i))
        }
        for _ in 1...4 { _ = try await server.nextMethod() }  // the four basic.publish
        await server.send(.basicAck(BasicAck(deliveryTag: 1)), channel: open.channel)
        await server.send(.basicNack(BasicNack(deliveryTag: 3, multiple: true, requeue: false)), channel: open.channel)
        await server.send(.basicAck(BasicAck(deliveryTag: 4)), channel: open.channel)
        #expect(try await channel.waitForConfirms() == false)
        let counts = try await channel.confirmCounts()
        #expect(counts.published == 4 && counts.acked == 2 && counts.nacked == 2)

        var events: [AMQPConfirm] = []
        for try await confirm in confirms {
            events.append(confirm)
            if events.count == 3 { break }
        }
        #expect(events == [AMQPConfirm(deliveryTag: 1, multiple: false, ack: true),
                           AMQPConfirm(deliveryTag: 3, multiple: true, ack: false),
                           AMQPConfirm(deliveryTag: 4, multiple: false, ack: true)])
        // The next wait starts clean.
        #expect(try await channel.basicPublish(routingKey: "q", body: []) == 5)
        _ = try await server.nextMethod()
        await server.send(.basicAck(BasicAck(deliveryTag: 5)), channel: open.channel)
        #expect(try await channel.waitForConfirms() == true)
        await connection.abort()
        await server.close()
    }
}
