import AOPEmbedded
import Testing

@Suite struct ConsumeAndGetTests {
    @Test func basicGetAckAndEmpty() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("q")
            try await broker.publish(bytes("one"), routingKey: "q",
                                     properties: BasicProperties(contentType: "text/plain", deliveryMode: 2))
            try await broker.publish(bytes("two"), routingKey: "q")
            let first = try #require(try await broker.get(queue: "q"))
            #expect(text(first.body) == "one")
            #expect(first.properties.contentType == "text/plain")
            #expect(first.routingKey == "q")
            #expect(first.messageCount == 1)
            #expect(!first.redelivered)
            try await first.ack()
            let again = await #expect(throws: EmbeddedBrokerError.self) { try await first.ack() }
            #expect(again?.kind == .deliveryNotPending)
            #expect(again?.replyCode == 406)

            let second = try #require(try await broker.get(queue: "q"))
            try await second.nack(requeue: true)
            let redelivered = try #require(try await broker.get(queue: "q", autoAck: true))
            #expect(text(redelivered.body) == "two")
            #expect(redelivered.redelivered)
            #expect(!redelivered.needsSettlement)
            #expect(try await broker.get(queue: "q") == nil)
        }
    }

    @Test func consumerReceivesInOrderAndAcks() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("q")
            for i in 0..<20 { try await broker.publish(bytes("m\(i)"), routingKey: "q") }
            let consumer = try await broker.consume(queue: "q", prefetch: 3)
            #expect(consumer.tag.hasPrefix("aop.embedded-"))
            var received: [String] = []
            for try await delivery in consumer {
                received.append(text(delivery.body))
                #expect(delivery.consumerTag == consumer.tag)
                try await delivery.ack()
                if received.count == 20 { break }
            }
            #expect(received == (0..<20).map { "m\($0)" })
            // Leaving the loop dropped the iterator: the consumer is gone.
            #expect(await eventually { try await broker.counts("q") == (0, 0) })
        }
    }

    @Test func prefetchBoundsUnsettledDeliveries() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("q")
            for i in 0..<10 { try await broker.publish(bytes("m\(i)"), routingKey: "q") }
            try await broker.withConsumer(queue: "q", prefetch: 2) { consumer in
                var iterator = consumer.makeAsyncIterator()
                let a = try #require(try await iterator.next())
                let b = try #require(try await iterator.next())
                // Two unsettled: the queue keeps the other 8 ready and hands out no more.
                try await Task.sleep(for: .milliseconds(100))
                #expect(try await broker.counts("q").messages == 8)
                try await a.ack()
                let c = try #require(try await iterator.next())
                #expect(text(c.body) == "m2")
                #expect(try await broker.counts("q").messages == 7)
                try await b.ack()
                try await c.ack()
            }
            // withConsumer cancelled it.
            #expect(try await broker.counts("q") == (7, 0))
        }
    }

    @Test func rejectWithoutRequeueDropsAndNackRequeueRedelivers() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("q")
            try await broker.publish(bytes("drop"), routingKey: "q")
            try await broker.publish(bytes("retry"), routingKey: "q")
            try await broker.withConsumer(queue: "q", prefetch: 10) { consumer in
                var seen: [(String, Bool)] = []
                for try await d in consumer {
                    seen.append((text(d.body), d.redelivered))
                    if text(d.body) == "drop" {
                        try await d.reject(requeue: false)
                    } else if !d.redelivered {
                        try await d.nack(requeue: true)
                    } else {
                        try await d.ack()
                        break
                    }
                }
                #expect(seen.map(\.0) == ["drop", "retry", "retry"])
                #expect(seen.map(\.1) == [false, false, true])
            }
            #expect(try await broker.counts("q").messages == 0)
        }
    }

    @Test func rejectedMessageIsDeadLettered() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareExchange("dlx", type: "fanout")
            try await broker.declareQueue("dead")
            try await broker.bindQueue("dead", to: "dlx")
            try await broker.declareQueue("q", arguments: ["x-dead-letter-exchange": "dlx"])
            try await broker.publish(bytes("bad"), routingKey: "q")
            let d = try #require(try await broker.get(queue: "q"))
            try await d.reject(requeue: false)
            #expect(await eventually { try await broker.counts("dead").messages == 1 })
        }
    }

    @Test func autoAckConsumerHasNothingToSettle() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("q")
            for i in 0..<5 { try await broker.publish(bytes("m\(i)"), routingKey: "q") }
            try await broker.withConsumer(queue: "q", prefetch: 2, autoAck: true) { consumer in
                var n = 0
                for try await d in consumer {
                    #expect(!d.needsSettlement)
                    let e = await #expect(throws: EmbeddedBrokerError.self) { try await d.ack() }
                    #expect(e?.kind == .deliveryNotPending)
                    n += 1
                    if n == 5 { break }
                }
            }
            #expect(try await broker.counts("q").messages == 0)
        }
    }

    @Test func exclusiveConsumerRefusesOthers() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("q")
            let first = try await broker.consume(queue: "q", exclusive: true)
            let e = await #expect(throws: EmbeddedBrokerError.self) { _ = try await broker.consume(queue: "q") }
            #expect(e?.replyCode == 403)
            await first.cancel()
            let second = try await broker.consume(queue: "q", consumerTag: "mine")
            #expect(second.tag == "mine")
            await second.cancel()
        }
    }

    @Test func deletingTheQueueEndsTheSequenceWithConsumerCancelled() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("q")
            let consumer = try await broker.consume(queue: "q")
            let iterating = Task {
                do {
                    for try await _ in consumer {}
                    return EmbeddedBrokerError.Kind.notRunning   // ended without an error: wrong
                } catch let error as EmbeddedBrokerError {
                    return error.kind
                } catch {
                    return EmbeddedBrokerError.Kind.startFailed   // not our error type: wrong
                }
            }
            #expect(await eventually { try await broker.counts("q").consumers == 1 })
            try await broker.deleteQueue("q")
            #expect(await iterating.value == .consumerCancelled)
        }
    }

    @Test func higherPriorityConsumerGetsMessagesFirst() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("q")
            let low = try await broker.consume(queue: "q", prefetch: 10, consumerTag: "low")
            let high = try await broker.consume(queue: "q", prefetch: 10, consumerTag: "high",
                                                 arguments: ["x-priority": .int32(5)])
            for i in 0..<3 { try await broker.publish(bytes("m\(i)"), routingKey: "q") }
            var iterator = high.makeAsyncIterator()
            var tags: [String] = []
            for _ in 0..<3 { tags.append(try #require(try await iterator.next()).consumerTag) }
            #expect(tags == ["high", "high", "high"])
            await low.cancel()
            await high.cancel()
            let bad = await #expect(throws: EmbeddedBrokerError.self) {
                _ = try await broker.consume(queue: "q", arguments: ["x-priority": .int64(1 << 40)])
            }
            #expect(bad?.replyCode == 406)
        }
    }

    @Test func batchPublishReturnsOneOutcomePerMessage() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareExchange("d", type: "direct")
            try await broker.declareQueue("a")
            try await broker.bindQueue("a", to: "d", routingKey: "a")
            let batch = ["a", "nowhere", "a"].map { key in
                PublishRequest(message: Message(exchange: "d", routingKey: key, properties: EmbeddedBroker.persistent,
                                                body: bytes(key)), mandatory: false)
            }
            let outcomes = try await broker.publish(batch: batch, exchange: "d")
            #expect(outcomes == [.routed, .unroutable, .routed])
            #expect(try await broker.counts("a").messages == 2)
        }
    }
}
