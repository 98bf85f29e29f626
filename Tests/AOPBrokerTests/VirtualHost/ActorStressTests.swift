import AOPBroker
import AOPIO
import AOPStorage
import AOPWire
import Synchronization
import Testing

/// A bounded concurrency test of the broker's actors, meant for `Scripts/test-tsan` (ThreadSanitizer)
/// as much as for its own checks: publishers, acking/requeueing/cancelling consumers, basic.get, and a
/// task that declares, binds, unbinds, purges and deletes queues all run at once on one virtual host.
///
/// Two queues ("s0", "s1") are bound to the fanout exchange before the run and never touched by the
/// churn task, so for them the checks are exact: every published message is acked exactly once or
/// left in the queue, a message is delivered unflagged at most once, and a consumer sees the unflagged
/// messages of one publisher in publish order.
@Suite struct ActorStressTests {
    static let stableQueues = ["s0", "s1"]

    @Test(arguments: [11, 12] as [UInt64])
    func mixedOperationsKeepEveryMessageExactlyOnce(seed: UInt64) async throws {
        let v = try await makeVHost()
        try await v.declareExchange("mix", "fanout")
        for q in Self.stableQueues {
            try await v.declare(q)
            try await v.bind(q, "mix")
        }
        let ledger = MixLedger()
        let publishers = 4, perPublisher = 200
        let stop = MixStop()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in 0..<3 {
                group.addTask {
                    var random = MixRandom(seed: seed &* 31 &+ UInt64(c))
                    try await Self.consumeLoop(v, id: c, ledger: ledger, stop: stop, random: &random)
                }
            }
            group.addTask {
                var random = MixRandom(seed: seed &* 97)
                try await Self.churnLoop(v, stop: stop, random: &random)
            }
            try await withThrowingTaskGroup(of: Void.self) { publishing in
                for p in 0..<publishers {
                    publishing.addTask {
                        var random = MixRandom(seed: seed &* 131 &+ UInt64(p))
                        var next = 0
                        while next < perPublisher {
                            let count = min(perPublisher - next, random.next(in: 1...16))
                            let batch = (next..<next + count).map { message("\(p)-\($0)") }
                            let outcomes = try await v.send("mix", batch)
                            #expect(outcomes.allSatisfy { $0 == .routed })
                            next += count
                            if random.chance(0.3) { await Task.yield() }
                        }
                    }
                }
                try await publishing.waitForAll()
            }
            // Let the consumers work on the backlog a little, then stop everybody.
            try await Task.sleep(for: .milliseconds(50))
            stop.set()
            try await group.waitForAll()
        }

        let published = Set((0..<publishers).flatMap { p in (0..<perPublisher).map { "\(p)-\($0)" } })
        for name in Self.stableQueues {
            let left = try await v.drain(name)
            let acked = ledger.acked(name)
            var counts: [String: Int] = [:]
            for body in acked + left { counts[body, default: 0] += 1 }
            let lost = published.filter { counts[$0] == nil }
            let twice = counts.filter { $0.value > 1 }.map(\.key)
            let unknown = counts.keys.filter { !published.contains($0) }
            #expect(lost.isEmpty, "\(name): \(lost.count) lost, e.g. \(lost.sorted().prefix(5))")
            #expect(twice.isEmpty, "\(name): acked or left twice: \(twice.sorted().prefix(5))")
            #expect(unknown.isEmpty, "\(name): never published: \(unknown.prefix(5))")
            #expect(!acked.isEmpty, "\(name): the consumers acked nothing")
            let unflagged = ledger.unflaggedDeliveries(name)
            let repeated = Dictionary(grouping: unflagged, by: { $0 }).filter { $0.value.count > 1 }.keys
            #expect(repeated.isEmpty, "\(name): delivered twice without redelivered: \(repeated.prefix(5))")
        }
        #expect(ledger.orderViolations.isEmpty, "\(ledger.orderViolations.prefix(5))")
        // Every message was released exactly as often as it was held: with the stable queues drained and the
        // churned ones deleted, the exchange's in-memory topic is empty and no release went unmatched.
        for name in ["c0", "c1", "c2"] {
            _ = try await v.deleteQueue(name: name, ifUnused: false, ifEmpty: false, connectionID: 1)
        }
        let topic = try #require(await v.messageTopicStatistics().first { $0.exchange == "mix" && $0.topic.hasPrefix("exchange-transient") })
        #expect(topic.statistics.overReleases == 0)
        #expect(topic.statistics.liveEntries == 0, "\(topic.statistics.liveEntries) messages still held")
    }

    /// Registers consumers on the stable queues, settles what arrives (mostly ack, some requeue), takes
    /// some messages with basic.get, and cancels; unsettled deliveries are requeued on cancel, as a
    /// channel close does.
    static func consumeLoop(_ v: VirtualHost, id: Int, ledger: MixLedger, stop: MixStop,
                            random: inout MixRandom) async throws {
        var round = 0
        while !stop.isSet {
            round += 1
            let name = stableQueues[random.next(in: 0...1)]
            let q = try await v.queue(named: name, connectionID: UInt64(10 + id))
            let sink = MixSink()
            let tag = "c\(id)-\(round)"
            let prefetch = UInt32(random.next(in: 0...8))
            let gate = CreditGate(consumerLimit: prefetch, channel: nil, unlimited: false)
            try await q.consume(ConsumerRegistration(tag: tag, connectionID: UInt64(10 + id), noAck: false,
                                                     exclusive: false, priority: 0, arguments: [:], credit: gate,
                                                     sink: sink))
            var held: [Delivery] = []
            var order = OrderCheck(consumer: tag)
            for _ in 0..<random.next(in: 1...12) {
                try await Task.sleep(for: .microseconds(random.next(in: 50...400)))
                for d in sink.take() {
                    let body = String(decoding: d.message.body, as: UTF8.self)
                    ledger.delivered(name, body, redelivered: d.redelivered)
                    if !d.redelivered, let violation = order.see(body) { ledger.orderViolation(violation) }
                    held.append(d)
                }
                var requeue: [UInt64] = []
                var ack: [UInt64] = []
                for d in held {
                    let roll = random.next(in: 0...99)
                    if roll < 70 {
                        ack.append(d.deliveryID)
                        ledger.acked(name, String(decoding: d.message.body, as: UTF8.self))
                    } else if roll < 85 {
                        requeue.append(d.deliveryID)
                    } else {
                        continue
                    }
                }
                let settled = Set(ack + requeue)
                held.removeAll { settled.contains($0.deliveryID) }
                if !ack.isEmpty { await q.settle(ack, .ack) }
                if !requeue.isEmpty { await q.settle(requeue, .requeue) }
                gate.settled(settled.count)
                await q.creditAvailable()
                if random.chance(0.2), let d = try await q.get(noAck: false) {
                    let body = String(decoding: d.message.body, as: UTF8.self)
                    ledger.delivered(name, body, redelivered: d.redelivered)
                    if random.chance(0.5) {
                        await q.settle([d.deliveryID], .ack)
                        ledger.acked(name, body)
                    } else {
                        await q.settle([d.deliveryID], .requeue)
                    }
                }
            }
            await q.cancel(consumerTag: tag)
            // Deliveries that raced with the cancel are ours too: record and requeue them with the rest.
            for d in sink.take() {
                ledger.delivered(name, String(decoding: d.message.body, as: UTF8.self), redelivered: d.redelivered)
                held.append(d)
            }
            if !held.isEmpty { await q.settle(held.map(\.deliveryID), .requeue) }
        }
    }

    /// Declares, binds, unbinds, purges, deletes and reads queues that are not checked exactly.
    static func churnLoop(_ v: VirtualHost, stop: MixStop, random: inout MixRandom) async throws {
        let names = ["c0", "c1", "c2"]
        while !stop.isSet {
            let name = names[random.next(in: 0...2)]
            do {
                switch random.next(in: 0...5) {
                case 0: try await v.declare(name)
                case 1: try await v.bind(name, "mix")
                case 2:
                    try await v.unbindQueue(queue: name, exchange: "mix", routingKey: "", arguments: [:],
                                            connectionID: 1)
                case 3: _ = try await v.purgeQueue(name: name, connectionID: 1)
                case 4:
                    _ = try await v.deleteQueue(name: name, ifUnused: false, ifEmpty: false, connectionID: 1)
                default:
                    let q = try await v.queue(named: name, connectionID: 1)
                    try await q.consume(consumer("churn", sink: TestSink(), noAck: true))
                    try await Task.sleep(for: .microseconds(200))
                    await q.cancel(consumerTag: "churn")
                    _ = try await q.get(noAck: true)
                }
            } catch let error as AMQPError where error.code.replyCode == 404 {
                // The queue was deleted meanwhile: expected.
            }
            await Task.yield()
        }
    }
}

/// Tells the looping tasks to finish.
final class MixStop: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { self.flag.store(true, ordering: .releasing) }
    var isSet: Bool { self.flag.load(ordering: .acquiring) }
}

/// Deliveries parked by the queue actor until the consuming task takes them.
final class MixSink: DeliverySink {
    private let state = Mutex<[Delivery]>([])
    func deliver(_ batch: [Delivery]) { self.state.withLock(orderedFor: self) { $0 += batch } }
    func consumerCancelled(tag: String) {}
    func take() -> [Delivery] {
        self.state.withLock(orderedFor: self) { pending in
            defer { pending = [] }
            return pending
        }
    }
}

/// What the consumers saw, per stable queue.
final class MixLedger: Sendable {
    struct State {
        var acked: [String: [String]] = [:]
        var unflagged: [String: [String]] = [:]
        var orderViolations: [String] = []
    }
    private let state = Mutex(State())

    func delivered(_ queue: String, _ body: String, redelivered: Bool) {
        guard !redelivered else { return }
        self.state.withLock(orderedFor: self) { $0.unflagged[queue, default: []].append(body) }
    }
    func acked(_ queue: String, _ body: String) {
        self.state.withLock(orderedFor: self) { $0.acked[queue, default: []].append(body) }
    }
    func orderViolation(_ text: String) { self.state.withLock(orderedFor: self) { $0.orderViolations.append(text) } }
    func acked(_ queue: String) -> [String] { self.state.withLock(orderedFor: self) { $0.acked[queue] ?? [] } }
    func unflaggedDeliveries(_ queue: String) -> [String] {
        self.state.withLock(orderedFor: self) { $0.unflagged[queue] ?? [] }
    }
    var orderViolations: [String] { self.state.withLock(orderedFor: self) { $0.orderViolations } }
}

/// Per consumer: the unflagged messages of each publisher must arrive in publish order.
struct OrderCheck {
    let consumer: String
    var last: [Substring: Int] = [:]

    init(consumer: String) { self.consumer = consumer }

    /// nil, or a description of the violation.
    mutating func see(_ body: String) -> String? {
        let parts = body.split(separator: "-")
        guard parts.count == 2, let seq = Int(parts[1]) else { return "\(self.consumer): bad body \(body)" }
        defer { self.last[parts[0]] = max(seq, self.last[parts[0]] ?? -1) }
        if let previous = self.last[parts[0]], previous >= seq {
            return "\(self.consumer): \(body) after \(parts[0])-\(previous)"
        }
        return nil
    }
}

/// SplitMix64: a small seeded generator.
struct MixRandom {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(self.next() % UInt64(range.count))
    }
    mutating func chance(_ p: Double) -> Bool { Double(self.next() >> 11) / Double(1 << 53) < p }
}
