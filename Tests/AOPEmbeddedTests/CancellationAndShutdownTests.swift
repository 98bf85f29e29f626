import AOPEmbedded
import Testing

@Suite struct CancellationAndShutdownTests {
    @Test func cancellingTheConsumingTaskRequeuesUnackedDeliveries() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("q")
            for i in 0..<6 { try await broker.publish(bytes("m\(i)"), routingKey: "q") }
            let consumer = try await broker.consume(queue: "q", prefetch: 4)
            let task = Task {
                var got = 0
                for try await d in consumer {
                    got += 1
                    if got == 1 { try await d.ack() }   // one acked, the rest stay unacked
                }
                return got
            }
            // 1 acked + 4 unacked (prefetch): 1 still ready.
            #expect(await eventually { try await broker.counts("q") == (1, 1) })
            task.cancel()
            let got = try await task.value
            #expect(got >= 4)
            // Consumer cancelled; the 4 unacked are back, before the one that was never delivered.
            #expect(await eventually { try await broker.counts("q") == (5, 0) })
            var order: [(String, Bool)] = []
            while let d = try await broker.get(queue: "q", autoAck: true) { order.append((text(d.body), d.redelivered)) }
            #expect(order.map(\.0) == ["m1", "m2", "m3", "m4", "m5"])
            #expect(order.map(\.1) == [true, true, true, true, false])
        }
    }

    @Test func taskCancelledWhileWaitingEndsTheSequence() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("q")
            let consumer = try await broker.consume(queue: "q")
            let task = Task { () -> Int in
                var n = 0
                for try await _ in consumer { n += 1 }
                return n
            }
            #expect(await eventually { try await broker.counts("q").consumers == 1 })
            task.cancel()
            #expect(try await task.value == 0)
            #expect(await eventually { try await broker.counts("q").consumers == 0 })
            // A later publish stays in the queue.
            try await broker.publish(bytes("x"), routingKey: "q")
            #expect(try await broker.counts("q").messages == 1)
        }
    }

    @Test func settlingAfterCancelThrowsDeliveryNotPending() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("q")
            try await broker.publish(bytes("x"), routingKey: "q")
            let consumer = try await broker.consume(queue: "q")
            var iterator = consumer.makeAsyncIterator()
            let d = try #require(try await iterator.next())
            await consumer.cancel()
            #expect(try await broker.counts("q") == (1, 0))
            let e = await #expect(throws: EmbeddedBrokerError.self) { try await d.ack() }
            #expect(e?.kind == .deliveryNotPending)
            #expect(try await iterator.next() == nil)
        }
    }

    @Test func shutdownWithDeliveriesInFlightKeepsEveryMessage() async throws {
        let directory = temporaryDirectory()
        let configuration = EmbeddedConfiguration(storage: .directory(directory))
        let broker = EmbeddedBroker(configuration: configuration)
        try await broker.start()
        try await broker.declareQueue("jobs", durable: true)
        for i in 0..<10 { try await broker.publish(bytes("job\(i)"), routingKey: "jobs") }
        let consumer = try await broker.consume(queue: "jobs", prefetch: 5)
        let worker = Task { () -> [EmbeddedDelivery] in
            var held: [EmbeddedDelivery] = []
            for try await d in consumer {
                if text(d.body) == "job0" { try await d.ack() } else { held.append(d) }
            }
            return held   // the sequence finished because of shutdown
        }
        #expect(await eventually { try await broker.counts("jobs").messages == 4 })
        // A basic.get delivery in flight too.
        let got = try #require(try await broker.get(queue: "jobs"))
        #expect(text(got.body) == "job6")
        await broker.shutdown()
        let held = try await worker.value
        #expect(held.count == 5)
        for d in held {
            let e = await #expect(throws: EmbeddedBrokerError.self) { try await d.ack() }
            #expect(e?.kind == .deliveryNotPending)
        }
        let e = await #expect(throws: EmbeddedBrokerError.self) { try await got.ack() }
        #expect(e?.kind == .deliveryNotPending)

        // Everything but the acked job0 is still there after a restart from the same directory.
        try await EmbeddedBroker.with(configuration: configuration) { again in
            #expect(try await again.counts("jobs").messages == 9)
            var bodies: Set<String> = []
            while let d = try await again.get(queue: "jobs") {
                bodies.insert(text(d.body))
                try await d.ack()
            }
            #expect(bodies == Set((1..<10).map { "job\($0)" }))
        }
    }

    @Test func durableDefinitionsAndPersistentMessagesSurviveRestart() async throws {
        let directory = temporaryDirectory()
        let configuration = EmbeddedConfiguration(storage: .directory(directory))
        try await EmbeddedBroker.with(configuration: configuration) { broker in
            try await broker.declareExchange("x", type: "fanout", durable: true)
            try await broker.declareQueue("durable", durable: true)
            try await broker.declareQueue("transient-queue", durable: false)
            try await broker.bindQueue("durable", to: "x")
            try await broker.bindQueue("transient-queue", to: "x")
            try await broker.publish(bytes("p"), exchange: "x", routingKey: "")
        }
        try await EmbeddedBroker.with(configuration: configuration) { broker in
            // The durable exchange, queue, binding and persistent message survive; the non-durable queue does not.
            #expect(try await broker.counts("durable").messages == 1)
            let missing = await #expect(throws: EmbeddedBrokerError.self) { try await broker.counts("transient-queue") }
            #expect(missing?.replyCode == 404)
            let d = try #require(try await broker.get(queue: "durable", autoAck: true))
            #expect(text(d.body) == "p")
            #expect(try await broker.publish(bytes("again"), exchange: "x", routingKey: "") == .routed)
        }
    }
}

/// After shutdown nothing keeps the broker alive, even consumers and deliveries the caller still holds,
/// so its vhosts (and their background reclaim tasks) go away.
@Suite struct ReleaseTests {
    final class WeakBroker: @unchecked Sendable {
        // Safe: set once inside the scope, read after it returned, on the same task.
        weak var broker: Broker?
    }

    @Test func brokerIsReleasedAfterShutdownWhileConsumerAndDeliveryAreHeld() async throws {
        let weak = WeakBroker()
        let (consumer, delivery) = try await EmbeddedBroker.with(
            configuration: EmbeddedConfiguration(listeners: [.init()])
        ) { embedded in
            weak.broker = try embedded.broker
            try await embedded.declareQueue("q")
            try await embedded.publish(bytes("x"), routingKey: "q")
            let consumer = try await embedded.consume(queue: "q")
            var iterator = consumer.makeAsyncIterator()
            let delivery = try #require(try await iterator.next())
            return (consumer, delivery)
        }
        #expect(await eventually { weak.broker == nil })
        let e = await #expect(throws: EmbeddedBrokerError.self) { try await delivery.ack() }
        #expect(e?.kind == .deliveryNotPending)
        await consumer.cancel()   // harmless after shutdown
    }
}
