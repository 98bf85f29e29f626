import AOPEmbedded
import Logging
import ServiceLifecycle
import Testing

@Suite struct ServiceTests {
    @Test func runsInAServiceGroupAndStopsOnGracefulShutdown() async throws {
        let broker = EmbeddedBroker()
        let group = ServiceGroup(services: [broker], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        // Another service would join the start the same way.
        #expect(await eventually(timeout: .seconds(30)) { broker.isRunning })
        try await broker.start()
        try await broker.declareQueue("q")
        let consumer = try await broker.consume(queue: "q")
        let iterating = Task { () -> Int in
            var n = 0
            for try await d in consumer {
                n += 1
                try await d.ack()
            }
            return n
        }
        try await broker.publish(bytes("x"), routingKey: "q")
        #expect(await eventually { try await broker.counts("q") == (0, 1) })
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(!broker.isRunning)
        // The consumer's sequence finished with the broker.
        #expect(try await iterating.value == 1)
    }

    @Test func cancellingTheServiceTaskShutsDown() async throws {
        let broker = EmbeddedBroker()
        let running = Task { try await broker.run() }
        #expect(await eventually(timeout: .seconds(30)) { broker.isRunning })
        running.cancel()
        try await running.value
        #expect(!broker.isRunning)
    }
}
