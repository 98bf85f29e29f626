import AOPClient
import AOPEmbedded
import Testing

@Suite struct PublishConsumeTests {
    @Test func consumeDeliversInOrderWithPropertiesAndEndsAtCancelOk() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("pc.q")
            let consumer = try await channel.basicConsume(queue: "pc.q", tag: "c1", noAck: true)
            #expect(consumer.tag == "c1")
            var properties = BasicProperties()
            properties.contentType = "text/plain"
            properties.headers = ["k": "v"]
            for i in 0..<100 {
                try await channel.basicPublish(routingKey: "pc.q", body: bytes("m\(i)"), properties: properties)
            }
            var received: [String] = []
            for try await delivery in consumer.deliveries {
                received.append(text(delivery.body))
                #expect(delivery.consumerTag == "c1")
                #expect(delivery.routingKey == "pc.q")
                #expect(delivery.exchange == "")
                #expect(delivery.properties.contentType == "text/plain")
                #expect(delivery.properties.headers?["k"] == "v")
                if received.count == 100 { break }
            }
            #expect(received == (0..<100).map { "m\($0)" })
            try await consumer.cancel()
            var iterator = consumer.deliveries.makeAsyncIterator()
            #expect(try await iterator.next() == nil)
            #expect(channel.unexpectedDeliveryCount == 0)
        }
    }

    @Test func largeBodiesSpanningFramesAndEmptyBodies() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("pc.large")
            let frameMax = Int(await connection.frameMax)
            let large = (0..<(frameMax * 3 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try await channel.basicPublish(routingKey: "pc.large", body: large)
            try await channel.basicPublish(routingKey: "pc.large", body: [])
            let consumer = try await channel.basicConsume(queue: "pc.large", noAck: true)
            var iterator = consumer.deliveries.makeAsyncIterator()
            #expect(try await iterator.next()?.body == large)
            #expect(try await iterator.next()?.body == [])
        }
    }

    @Test func batchesExposeTagsAndBodiesWithoutCopying() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("pc.batch")
            let frameMax = await connection.frameMax
            let encoder = AMQPPublishEncoder(channel: channel.id, exchange: "", routingKey: "pc.batch",
                                             body: [UInt8](repeating: 0, count: 16), frameMax: frameMax)
            var encoded: [UInt8] = []
            for i in 0..<500 { encoder.append(bodyPrefix: UInt64(i), to: &encoded) }
            try await channel.publish(encoded: encoded, count: 500)
            try await channel.basicQos(prefetchCount: 1000)
            let consumer = try await channel.basicConsume(queue: "pc.batch")
            var seen: [UInt64] = []
            var lastTag: UInt64 = 0
            for try await batch in consumer.batches {
                for i in batch.indices {
                    #expect(batch.deliveryTag(at: i) == lastTag + 1)
                    lastTag = batch.deliveryTag(at: i)
                    seen.append(batch.withBody(at: i) { $0.loadUnaligned(as: UInt64.self) })
                }
                if seen.count == 500 { break }
            }
            #expect(seen == (0..<500).map { UInt64($0) })
            try await channel.basicAck(deliveryTag: lastTag, multiple: true)
            try await consumer.cancel()
            #expect(try await channel.queueDeclare("pc.batch", passive: true).messageCount == 0)
        }
    }

    @Test func ackNackRejectAndRecover() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("pc.settle")
            for i in 0..<4 { try await channel.basicPublish(routingKey: "pc.settle", body: bytes("\(i)")) }
            let a = try #require(try await channel.basicGet(queue: "pc.settle"))
            let b = try #require(try await channel.basicGet(queue: "pc.settle"))
            let c = try #require(try await channel.basicGet(queue: "pc.settle"))
            let d = try #require(try await channel.basicGet(queue: "pc.settle"))
            try await channel.basicAck(deliveryTag: a.deliveryTag)
            try await channel.basicReject(deliveryTag: b.deliveryTag, requeue: false)   // dropped
            try await channel.basicNack(deliveryTag: c.deliveryTag, requeue: true)      // back to the queue
            let again = try #require(try await channel.basicGet(queue: "pc.settle"))
            #expect(text(again.body) == "2")
            #expect(again.redelivered)
            try await channel.basicRecover(requeue: true)   // d and again go back
            var rest: [String] = []
            while let m = try await channel.basicGet(queue: "pc.settle", noAck: true) { rest.append(text(m.body)) }
            #expect(rest.sorted() == ["2", "3"])
            _ = d
        }
    }

    @Test func ackOfUnknownTagClosesTheChannelWith406() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            try await channel.basicAck(deliveryTag: 99)
            let error = await expectClientError { _ = try await channel.queueDeclare("pc.any") }
            #expect(error?.code == .channelClosedByServer)
            #expect(error?.replyCode == 406)
        }
    }

    @Test func serverCancelEndsTheConsumerAndLaterDeliveriesAreNotDropped() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            let other = try await connection.openChannel()
            _ = try await channel.queueDeclare("pc.cancel")
            let consumer = try await channel.basicConsume(queue: "pc.cancel")
            try await other.queueDelete("pc.cancel")  // the server sends basic.cancel
            var iterator = consumer.deliveries.makeAsyncIterator()
            #expect(try await iterator.next() == nil)
        }
    }

    @Test func qosLimitsUnackedDeliveries() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("pc.qos")
            for i in 0..<10 { try await channel.basicPublish(routingKey: "pc.qos", body: bytes("\(i)")) }
            try await channel.basicQos(prefetchCount: 3)
            let consumer = try await channel.basicConsume(queue: "pc.qos")
            var iterator = consumer.deliveries.makeAsyncIterator()
            var tags: [UInt64] = []
            for _ in 0..<3 { tags.append(try #require(try await iterator.next()).deliveryTag) }
            // With 3 unacked, the 4th only comes after an ack.
            let ready = try await other(connection).queueDeclare("pc.qos", passive: true).messageCount
            #expect(ready == 7)
            try await channel.basicAck(deliveryTag: tags[2], multiple: true)
            let fourth = try #require(try await iterator.next())
            #expect(text(fourth.body) == "3")
        }
    }

    @Test func flowRoundTrips() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            #expect(try await channel.flow(active: true))
        }
    }

    private func other(_ connection: AMQPClientConnection) async throws -> AMQPClientChannel {
        try await connection.openChannel()
    }
}
