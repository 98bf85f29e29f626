import AOPClient
import AOPIO
import AOPWire
import Testing

@Suite struct UnexpectedDeliveryTests {
    /// A scripted server sends deliveries for a tag never consumed and for a tag after its cancel-ok:
    /// the client counts and records both and delivers neither to the (cancelled) consumer.
    @Test func deliveriesForUnknownOrCancelledTagsAreCountedNotDropped() async throws {
        let loop = try RingLoop(name: "scripted")
        defer { loop.shutdown() }
        let server = try ScriptedServer(loop: loop)
        let serving = Task { try await server.acceptAndHandshake() }
        let connection = try await AMQPClientConnection.connect(AMQPClientConfiguration(port: server.port, heartbeat: 0))
        try await serving.value

        async let opened = connection.openChannel()
        let open = try await server.nextMethod()
        #expect(open.method == .channelOpen(ChannelOpen()))
        await server.send(.channelOpenOk(ChannelOpenOk()), channel: open.channel)
        let channel = try await opened

        async let consumed = channel.basicConsume(queue: "q", tag: "real")
        let consume = try await server.nextMethod()
        guard case .basicConsume(let request) = consume.method else {
            Issue.record("expected basic.consume, got \(consume.method)")
            return
        }
        #expect(request.consumerTag == "real")
        await server.send(.basicConsumeOk(BasicConsumeOk(consumerTag: "real")), channel: open.channel)
        let consumer = try await consumed
        await server.sendDeliver(channel: open.channel, consumerTag: "ghost", deliveryTag: 1, body: [1])
        await server.sendDeliver(channel: open.channel, consumerTag: "real", deliveryTag: 2, body: [2])

        var deliveries = consumer.deliveries.makeAsyncIterator()
        #expect(try await deliveries.next()?.deliveryTag == 2)

        async let cancelled: Void = consumer.cancel()
        let cancel = try await server.nextMethod()
        #expect(cancel.method == .basicCancel(BasicCancel(consumerTag: "real")))
        // One more delivery before cancel-ok is legitimate; one after it is not.
        await server.sendDeliver(channel: open.channel, consumerTag: "real", deliveryTag: 3, body: [3])
        await server.send(.basicCancelOk(BasicCancelOk(consumerTag: "real")), channel: open.channel)
        await server.sendDeliver(channel: open.channel, consumerTag: "real", deliveryTag: 4, body: [4])
        try await cancelled
        #expect(try await deliveries.next()?.deliveryTag == 3)
        #expect(try await deliveries.next() == nil)

        // A round trip after the last delivery makes sure the client has read it.
        async let qos: Void = channel.basicQos(prefetchCount: 1)
        _ = try await server.nextMethod()
        await server.send(.basicQosOk(BasicQosOk()), channel: open.channel)
        try await qos
        #expect(channel.unexpectedDeliveryCount == 2)
        #expect(channel.unexpectedDeliveries == [
            AMQPUnexpectedDelivery(consumerTag: "ghost", deliveryTag: 1),
            AMQPUnexpectedDelivery(consumerTag: "real", deliveryTag: 4),
        ])
        await connection.abort()
        await server.close()
    }
}
