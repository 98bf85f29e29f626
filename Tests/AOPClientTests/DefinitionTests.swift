import AOPClient
import AOPEmbedded
import Testing

@Suite struct DefinitionTests {
    @Test func exchangesQueuesAndBindingsRoute() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            try await channel.exchangeDeclare("defs.src", type: "topic")
            try await channel.exchangeDeclare("defs.dst", type: "fanout")
            try await channel.exchangeBind(destination: "defs.dst", source: "defs.src", routingKey: "a.#")
            let declared = try await channel.queueDeclare("defs.q")
            #expect(declared.name == "defs.q")
            #expect(declared.messageCount == 0 && declared.consumerCount == 0)
            try await channel.queueBind("defs.q", exchange: "defs.dst")
            try await channel.basicPublish(exchange: "defs.src", routingKey: "a.b", body: bytes("one"))
            try await channel.basicPublish(exchange: "defs.src", routingKey: "x.y", body: bytes("not routed"))
            let got = try await channel.basicGet(queue: "defs.q", noAck: true)
            #expect(got.map { text($0.body) } == "one")
            #expect(got?.exchange == "defs.src" && got?.routingKey == "a.b")
            #expect(try await channel.basicGet(queue: "defs.q") == nil)

            try await channel.exchangeUnbind(destination: "defs.dst", source: "defs.src", routingKey: "a.#")
            try await channel.basicPublish(exchange: "defs.src", routingKey: "a.b", body: bytes("after unbind"))
            try await channel.queueUnbind("defs.q", exchange: "defs.dst")
            try await channel.basicPublish(exchange: "defs.dst", routingKey: "", body: bytes("after queue unbind"))
            let passive = try await channel.queueDeclare("defs.q", passive: true)
            #expect(passive.messageCount == 0)

            try await channel.basicPublish(routingKey: "defs.q", body: bytes("1"))
            try await channel.basicPublish(routingKey: "defs.q", body: bytes("2"))
            #expect(try await channel.queuePurge("defs.q") == 2)
            try await channel.basicPublish(routingKey: "defs.q", body: bytes("3"))
            #expect(try await channel.queueDelete("defs.q") == 1)
            try await channel.exchangeDelete("defs.dst")
            try await channel.exchangeDelete("defs.src")
        }
    }

    @Test func serverNamedQueue() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            let declared = try await channel.queueDeclare("", exclusive: true)
            #expect(declared.name.hasPrefix("amq.gen-"))
        }
    }

    @Test func passiveDeclareOfMissingQueueClosesTheChannelWith404() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            let error = await expectClientError { try await channel.queueDeclare("defs.missing", passive: true) }
            #expect(error?.code == .channelClosedByServer)
            #expect(error?.replyCode == 404)
            #expect(error?.classID == 50 && error?.methodID == 10)
            #expect(channel.closeError?.replyCode == 404)
            // Every later call on the channel fails with the same error; the connection stays usable.
            let later = await expectClientError { try await channel.basicPublish(routingKey: "x", body: []) }
            #expect(later?.replyCode == 404)
            #expect(await connection.isOpen)
            let other = try await connection.openChannel()
            _ = try await other.queueDeclare("defs.other")
        }
    }

    @Test func inequivalentRedeclareIs406() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("defs.406", durable: false)
            let error = await expectClientError { _ = try await channel.queueDeclare("defs.406", durable: true) }
            #expect(error?.code == .channelClosedByServer)
            #expect(error?.replyCode == 406)
        }
    }

    @Test func pendingCallsFailWhenTheServerClosesTheChannel() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("defs.pending")
            let consumer = try await channel.basicConsume(queue: "defs.pending")
            // The 404 closes the channel; the consumer's sequence ends with the same error.
            _ = await expectClientError { try await channel.exchangeDeclare("defs.nope", passive: true) }
            var iterator = consumer.deliveries.makeAsyncIterator()
            let error = await expectClientError { _ = try await iterator.next() }
            #expect(error?.replyCode == 404)
            #expect(error?.code == .channelClosedByServer)
        }
    }

    @Test func clientChannelCloseEndsConsumersAndLaterCallsFail() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("defs.close")
            let consumer = try await channel.basicConsume(queue: "defs.close")
            try await channel.close()
            var iterator = consumer.batches.makeAsyncIterator()
            #expect(try await iterator.next() == nil)
            let error = await expectClientError { try await channel.basicQos(prefetchCount: 5) }
            #expect(error?.code == .channelClosed)
            try await channel.close()  // closing again is harmless
        }
    }
}
