import AOPClient
import AOPIO
import AOPWire
import Testing

/// How channels end: content that crosses a close, and every pending call and stream finishing.
@Suite struct ChannelEndTests {
    /// Deliveries, a return and a get-ok that arrive after our channel.close — before and after its
    /// close-ok — must not fail the connection (the spec has the peer discard them): the one before
    /// close-ok still reaches the consumer, the late delivery is discarded and counted.
    @Test func contentCrossingAClientCloseIsDiscardedNotAViolation() async throws {
        let loop = try RingLoop(name: "scripted")
        defer { loop.shutdown() }
        let server = try ScriptedServer(loop: loop)
        let serving = Task { try await server.acceptAndHandshake() }
        let connection = try await AMQPClientConnection.connect(AMQPClientConfiguration(port: server.port, heartbeat: 0))
        try await serving.value

        let scripted = Task { try await server.expectOpenAndConsume() }
        let channel = try await connection.openChannel()
        let consumer = try await channel.basicConsume(queue: "q", tag: "c")
        let id = try await scripted.value

        async let closed: Void = channel.close()
        let close = try await server.nextMethod()
        guard case .channelClose = close.method else {
            Issue.record("expected channel.close, got \(close.method)")
            return
        }
        await server.sendDeliver(channel: id, consumerTag: "c", deliveryTag: 1, body: [1])
        await server.send(.channelCloseOk(ChannelCloseOk()), channel: id)
        await server.sendDeliver(channel: id, consumerTag: "c", deliveryTag: 2, body: [2])
        await server.sendContent(.basicReturn(BasicReturn(replyCode: 312, replyText: "NO_ROUTE", exchange: "", routingKey: "x")),
                                 channel: id, body: [3])
        await server.sendContent(.basicGetOk(BasicGetOk(deliveryTag: 3, redelivered: false, exchange: "", routingKey: "q",
                                                        messageCount: 0)), channel: id, body: [4])
        try await closed

        // The connection is still usable: a new channel opens.
        async let reopened = connection.openChannel()
        let open = try await server.nextMethod()
        await server.send(.channelOpenOk(ChannelOpenOk()), channel: open.channel)
        _ = try await reopened
        #expect(await connection.isOpen)

        var deliveries = consumer.deliveries.makeAsyncIterator()
        #expect(try await deliveries.next()?.deliveryTag == 1)
        #expect(try await deliveries.next() == nil)
        #expect(channel.deliveriesAfterClose == 1)
        #expect(channel.unexpectedDeliveryCount == 0)
        await connection.abort()
        await server.close()
    }

    /// RabbitMQ sends deliveries that race its own channel.close (seen with aop-stress against 3.10): the
    /// client answers close-ok, discards and counts them, and the connection stays up.
    @Test func deliveriesAfterTheServersChannelCloseAreDiscarded() async throws {
        let loop = try RingLoop(name: "scripted")
        defer { loop.shutdown() }
        let server = try ScriptedServer(loop: loop)
        let serving = Task { try await server.acceptAndHandshake() }
        let connection = try await AMQPClientConnection.connect(AMQPClientConfiguration(port: server.port, heartbeat: 0))
        try await serving.value

        let scripted = Task { try await server.expectOpenAndConsume() }
        let channel = try await connection.openChannel()
        let consumer = try await channel.basicConsume(queue: "q", tag: "c")
        let id = try await scripted.value
        await server.send(.channelClose(ChannelClose(replyCode: 404, replyText: "NOT_FOUND - no queue 'x'",
                                                     classID: 50, methodID: 20)), channel: id)
        await server.sendDeliver(channel: id, consumerTag: "c", deliveryTag: 1, body: [1])
        await server.sendDeliver(channel: id, consumerTag: "c", deliveryTag: 2, body: [2])
        let closeOk = try await server.nextMethod()
        #expect(closeOk.method == .channelCloseOk(ChannelCloseOk()))
        let ended = await expectClientError { for try await _ in consumer.deliveries {} }
        #expect(ended?.replyCode == 404)

        async let reopened = connection.openChannel()
        let open = try await server.nextMethod()
        await server.send(.channelOpenOk(ChannelOpenOk()), channel: open.channel)
        _ = try await reopened
        #expect(await connection.isOpen)
        #expect(channel.deliveriesAfterClose == 2)
        await connection.abort()
        await server.close()
    }

    /// A consumer nobody reads fills its buffer and the reader stops reading the socket (backpressure);
    /// cancelling that consumer, or closing its channel, must still get its reply read and return.
    @Test(arguments: [false, true])
    func endingAnUnreadConsumerReturns(closeChannel: Bool) async throws {
        let loop = try RingLoop(name: "scripted")
        defer { loop.shutdown() }
        let server = try ScriptedServer(loop: loop)
        let serving = Task { try await server.acceptAndHandshake() }
        let connection = try await AMQPClientConnection.connect(AMQPClientConfiguration(port: server.port, heartbeat: 0))
        try await serving.value

        let scripted = Task { try await server.expectOpenAndConsume() }
        let channel = try await connection.openChannel()
        let consumer = try await channel.basicConsume(queue: "q", tag: "c")
        let id = try await scripted.value

        // Each delivery followed by a method is one batch: 100 batches, beyond the 64 a consumer buffers.
        let count = 100
        for tag in 1...count {
            await server.sendDeliver(channel: id, consumerTag: "c", deliveryTag: UInt64(tag), body: [UInt8(tag)])
            await server.send(.channelFlow(ChannelFlow(active: true)), channel: id)
        }
        // The server answers the cancel / close once it arrives (after flow-oks the client managed to send).
        let answering = Task {
            while true {
                let next = try await server.nextMethod()
                switch next.method {
                case .basicCancel(let cancel):
                    await server.send(.basicCancelOk(BasicCancelOk(consumerTag: cancel.consumerTag)), channel: id)
                    return
                case .channelClose:
                    await server.send(.channelCloseOk(ChannelCloseOk()), channel: id)
                    return
                default:
                    continue
                }
            }
        }
        let ended: Void? = try await withDeadline(5, aborting: connection) {
            if closeChannel { try await channel.close() } else { try await consumer.cancel() }
        }
        #expect(ended != nil)
        _ = try? await answering.value
        if ended != nil {
            // Everything sent before the reply is still there, in order.
            var tags: [UInt64] = []
            for try await delivery in consumer.deliveries { tags.append(delivery.deliveryTag) }
            #expect(tags == (1...UInt64(count)).map { $0 })
        }
        await connection.abort()
        await server.close()
    }

    /// A server channel.close ends every pending call and every stream of the channel with its error;
    /// the other channels stay usable.
    @Test func serverChannelCloseEndsEverythingPending() async throws {
        let loop = try RingLoop(name: "scripted")
        defer { loop.shutdown() }
        let server = try ScriptedServer(loop: loop)
        let serving = Task { try await server.acceptAndHandshake() }
        let connection = try await AMQPClientConnection.connect(AMQPClientConfiguration(port: server.port, heartbeat: 0))
        try await serving.value

        let scripted = Task { try await server.expectOpenAndConsume() }
        let channel = try await connection.openChannel()
        let consumer = try await channel.basicConsume(queue: "q", tag: "c")
        let id = try await scripted.value

        async let selected: Void = channel.confirmSelect()
        _ = try await server.nextMethod()
        await server.send(.confirmSelectOk(ConfirmSelectOk()), channel: id)
        try await selected
        let confirms = try await channel.confirms()
        try await channel.basicPublish(routingKey: "q", body: [1])

        let deliveries = Task { () throws -> Int in
            var count = 0
            for try await _ in consumer.deliveries { count += 1 }
            return count
        }
        let confirmReader = Task { for try await _ in confirms {} }
        let returnReader = Task { for try await _ in channel.returns {} }
        let waiting = Task { try await channel.waitForConfirms() }
        let declaring = Task { _ = try await channel.queueDeclare("x") }
        // The declare reached the server: every call above is now pending.
        while true {
            if case .queueDeclare = try await server.nextMethod().method { break }
        }
        await server.send(.channelClose(ChannelClose(replyCode: 406, replyText: "PRECONDITION_FAILED - test",
                                                     classID: 50, methodID: 10)), channel: id)

        func expect406(_ result: Result<some Sendable, any Error>?, _ what: String) {
            switch result {
            case .failure(let error)?:
                let clientError = error as? AMQPClientError
                #expect(clientError?.code == .channelClosedByServer, "\(what)")
                #expect(clientError?.replyCode == 406, "\(what)")
            case .success?:
                Issue.record("\(what) ended without the channel's error")
            case nil:
                break  // timed out (recorded)
            }
        }
        expect406(try await withDeadline(5, aborting: connection) { await deliveries.result }, "deliveries")
        expect406(try await withDeadline(5, aborting: connection) { await confirmReader.result }, "confirms")
        expect406(try await withDeadline(5, aborting: connection) { await returnReader.result }, "returns")
        expect406(try await withDeadline(5, aborting: connection) { await waiting.result }, "waitForConfirms")
        expect406(try await withDeadline(5, aborting: connection) { await declaring.result }, "queueDeclare")
        let closeOk = try await server.nextMethod()
        #expect(closeOk.method == .channelCloseOk(ChannelCloseOk()))
        #expect(await connection.isOpen)
        await connection.abort()
        await server.close()
    }
}
