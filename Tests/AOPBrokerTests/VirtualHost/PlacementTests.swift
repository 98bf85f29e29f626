import Testing
import AOPBroker
import AOPIO
import AOPStorage
import AOPWire
import Logging
import Synchronization

/// Counts deliveries and how many arrived on `loop`'s thread (a queue calls its sinks from its isolation).
final class ThreadCheckingSink: DeliverySink {
    let loop: RingLoop
    private let state = Mutex<(count: Int, onLoop: Int)>((0, 0))

    init(loop: RingLoop) { self.loop = loop }

    func deliver(_ batch: [Delivery]) {
        let onLoop = self.loop.isCurrent
        self.state.withLock {
            $0.count += batch.count
            if onLoop { $0.onLoop += batch.count }
        }
    }

    func consumerCancelled(tag: String) {}

    var counts: (count: Int, onLoop: Int) { self.state.withLock { $0 } }
}

@Suite struct PlacementTests {
    /// Declares queue "q" with a no-ack consumer, publishes 100 messages to it, returns the sink's counts.
    private func deliverHundred(_ vhost: VirtualHost, loop: RingLoop) async throws -> (count: Int, onLoop: Int) {
        try await vhost.start()
        try await vhost.declare("q")
        let sink = ThreadCheckingSink(loop: loop)
        let queue = try await vhost.queue(named: "q", connectionID: 1)
        try await queue.consume(ConsumerRegistration(
            tag: "c", connectionID: 1, noAck: true, exclusive: false, priority: 0, arguments: [:],
            credit: CreditGate(consumerLimit: 0, channel: nil, unlimited: true), sink: sink))
        let outcomes = try await vhost.send("", (0..<100).map { message("m\($0)", key: "q") })
        #expect(outcomes == Array(repeating: .routed, count: 100))
        await waitUntil { sink.counts.count >= 100 }
        return sink.counts
    }

    @Test func queuesRunOnTheExecutorTheVhostWasGiven() async throws {
        let group = try RingLoopGroup(loops: 1, namePrefix: "placement")
        defer { group.shutdown() }
        let loop = group.loops[0]
        let vhost = VirtualHost(name: "/", storage: InMemoryStorageEngine(), logger: Logger(label: "test"),
                                executor: loop)
        let counts = try await self.deliverHundred(vhost, loop: loop)
        #expect(counts.count == 100)
        #expect(counts.onLoop == 100)
    }

    @Test func withoutAnExecutorQueuesRunOffTheLoop() async throws {
        let group = try RingLoopGroup(loops: 1, namePrefix: "placement")
        defer { group.shutdown() }
        let vhost = VirtualHost(name: "/", storage: InMemoryStorageEngine(), logger: Logger(label: "test"))
        let counts = try await self.deliverHundred(vhost, loop: group.loops[0])
        #expect(counts.count == 100)
        #expect(counts.onLoop == 0)
    }

    /// One batch with runs of equal and different routing keys, a message with headers between them and
    /// an unroutable one: the per-batch route reuse must not carry one key's queues over to another.
    @Test func aBatchWithMixedRoutingKeysRoutesEachMessage() async throws {
        let vhost = try await makeVHost()
        try await vhost.declareExchange("x", "direct")
        try await vhost.declare("q1")
        try await vhost.declare("q2")
        try await vhost.bind("q1", "x", "k1")
        try await vhost.bind("q2", "x", "k2")
        let outcomes = try await vhost.send("x", [
            message("a", key: "k1", exchange: "x"), message("b", key: "k1", exchange: "x"),
            message("c", key: "k2", exchange: "x"), message("d", key: "k1", exchange: "x", headers: ["h": 1]),
            message("e", key: "k1", exchange: "x"), message("f", key: "k3", exchange: "x"),
            message("g", key: "k2", exchange: "x"),
        ])
        #expect(outcomes == [.routed, .routed, .routed, .routed, .routed, .unroutable, .routed])
        #expect(try await vhost.drain("q1") == ["a", "b", "d", "e"])
        #expect(try await vhost.drain("q2") == ["c", "g"])
    }
}
