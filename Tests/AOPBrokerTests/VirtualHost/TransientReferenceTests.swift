@testable import AOPBroker
import AOPIO
import AOPStorage
import AOPWire
import Logging
import Testing

/// Transient messages are freed one by one as the last queue holding each lets go of it: a queue that
/// keeps a backlog pins only its own messages, not every later message of the exchange.
@Suite struct TransientReferenceTests {
    /// The in-memory topic of `exchange`'s transient messages.
    func transient(_ v: VirtualHost, _ exchange: String) async throws -> InMemoryTopic {
        let name = "exchange-transient./.\(exchange)"
        let stats = await v.messageTopicStatistics()
        #expect(stats.contains { $0.topic == name && $0.exchange == exchange })
        return try #require(try await v.storage.topic(named: name, kind: .nonPersistent) as? InMemoryTopic)
    }

    /// Waits until the topic holds `count` live entries; true when it does.
    func settles(_ topic: InMemoryTopic, at count: Int) async -> Bool {
        await waitUntil { topic.entryCount == count }
        return topic.entryCount == count
    }

    /// Consumes every message of `queue` with a manual-ack consumer, acknowledging batch by batch.
    func consumeAll(_ v: VirtualHost, _ queue: String, expected: Int, tag: String = "c") async throws -> [String] {
        let q = try await v.queue(named: queue, connectionID: 1)
        let sink = TestSink()
        let reg = consumer(tag, sink: sink, prefetch: 200)
        try await q.consume(reg)
        var acked = 0
        while acked < expected {
            await sink.wait(for: min(expected, acked + 200))
            let pending = Array(sink.deliveries[acked...])
            if pending.isEmpty { break }
            await q.settle(pending.map(\.deliveryID), .ack)
            reg.credit.release(pending.count)
            await q.creditAvailable()
            acked += pending.count
        }
        await q.cancel(consumerTag: tag)
        return sink.bodies
    }

    func bodies(_ range: Range<Int>, _ prefix: String = "") -> [String] { range.map { "\(prefix)\($0)" } }

    func publish(_ v: VirtualHost, _ exchange: String, _ range: Range<Int>, prefix: String = "", key: String = "",
                 batch: Int = 250, headers: FieldTable? = nil) async throws {
        for start in stride(from: range.lowerBound, to: range.upperBound, by: batch) {
            let end = min(range.upperBound, start + batch)
            try await v.send(exchange, (start..<end).map { message("\(prefix)\($0)", key: key, headers: headers) })
        }
    }

    // MARK: the reported case

    /// Fanout E → Q1 (never consumed) and Q2 (consumed). Q1 keeps N messages, more than its in-memory
    /// window; many more messages go through E to Q2 only. Once Q2 consumed them, E's topic holds N.
    @Test func aQueueWithABacklogPinsOnlyItsOwnMessages() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E", "fanout")
        try await v.declare("Q1")
        try await v.declare("Q2")
        try await v.bind("Q1", "E")
        try await v.bind("Q2", "E")
        let n = MessageQueue.windowCapacity * 3
        try await publish(v, "E", 0..<n)
        try await v.unbindQueue(queue: "Q1", exchange: "E", routingKey: "", arguments: [:], connectionID: 1)
        try await publish(v, "E", n..<(n + 20_000))
        let topic = try await transient(v, "E")
        #expect(try await consumeAll(v, "Q2", expected: n + 20_000) == bodies(0..<(n + 20_000)))
        #expect(await settles(topic, at: n))
        let stats = topic.statistics
        #expect(stats.liveBytes == bodies(0..<n).reduce(0) { $0 + $1.utf8.count })
        // Memory follows the live entries: Q1's messages are a contiguous run, so about n / 64 pages.
        #expect(stats.pages <= n / InMemoryTopicStatistics.positionsPerPage + 2)
        #expect(stats.overReleases == 0)
        // Q1 still has every one of its messages, in order.
        #expect(try await v.drain("Q1") == bodies(0..<n))
        #expect(await settles(topic, at: 0))
        #expect(topic.statistics.overReleases == 0)
    }

    /// A queue with a backlog on one exchange holds back neither another exchange's in-memory topic nor
    /// (for topics on disk) the reclamation floor of topics it never indexed from.
    @Test func aBacklogBeyondTheWindowDoesNotBlockOtherExchanges() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E1", "fanout")
        try await v.declareExchange("E2", "fanout")
        try await v.declare("Q1")
        try await v.declare("Q3")
        try await v.bind("Q1", "E1")
        try await v.bind("Q3", "E2")
        let n = MessageQueue.windowCapacity * 2
        try await publish(v, "E1", 0..<n)
        try await publish(v, "E2", 0..<5000)
        let e1 = try await transient(v, "E1")
        let e2 = try await transient(v, "E2")
        #expect(try await consumeAll(v, "Q3", expected: 5000).count == 5000)
        #expect(await settles(e2, at: 0))
        #expect(e1.entryCount == n)
        // The disk-topic floor of Q1 constrains E1's topic only.
        let q1 = try await v.queue(named: "Q1", connectionID: 1)
        let floor = await q1.referencedFloor()
        let e1ID = await v.exchanges["E1"]!.actor.transientSlot.id
        let e2ID = await v.exchanges["E2"]!.actor.transientSlot.id
        #expect(floor[e1ID] == .zero)
        #expect(floor[e2ID] == nil)
    }

    /// One delivery left unacknowledged keeps its own message and index entry, not the later ones.
    @Test func anOldUnackedDeliveryDoesNotPinLaterEntries() async throws {
        let storage = InMemoryStorageEngine()
        let v = try await makeVHost(storage)
        try await v.declareExchange("E", "fanout")
        try await v.declare("Q")
        try await v.bind("Q", "E")
        try await publish(v, "E", 0..<1)
        let q = try await v.queue(named: "Q", connectionID: 1)
        let held = try #require(try await q.get(noAck: false))
        try await publish(v, "E", 1..<5001)
        #expect(try await consumeAll(v, "Q", expected: 5000) == bodies(1..<5001))
        let topic = try await transient(v, "E")
        let index = try #require(try await storage.topic(named: "queue./.Q", kind: .nonPersistent) as? InMemoryTopic)
        #expect(await settles(topic, at: 1))
        #expect(index.entryCount == 1)
        #expect(index.statistics.pages <= 2)
        await q.settle([held.deliveryID], .ack)
        #expect(topic.entryCount == 0)
        #expect(index.entryCount == 0)
        #expect(index.statistics.overReleases == 0)
    }

    /// With the on-disk engine (as `aop-server` runs): a durable queue indexes transient messages on disk
    /// while the messages stay in the in-memory topic; its backlog (beyond the window) pins only itself.
    @Test func aDurableQueueOnDiskHoldsOnlyItsTransientMessages() async throws {
        let dir = "/tmp/aop-pinning-\(UInt32.random(in: 0...UInt32.max))"
        defer { Self.removeTree(dir) }
        let storage = try await DiskStorageEngine(directory: dir, fileSystem: PosixFileSystem())
        let v = VirtualHost(name: "/", storage: storage, logger: Logger(label: "test"))
        try await v.start()
        try await v.declareExchange("E", "fanout", durable: true)
        try await v.declare("D", durable: true)
        try await v.declare("T")
        try await v.bind("D", "E")
        try await v.bind("T", "E")
        let n = MessageQueue.windowCapacity * 2
        try await publish(v, "E", 0..<n)
        try await v.unbindQueue(queue: "D", exchange: "E", routingKey: "", arguments: [:], connectionID: 1)
        try await publish(v, "E", n..<(n + 5000))
        let topic = try await transient(v, "E")
        #expect(try await consumeAll(v, "T", expected: n + 5000).count == n + 5000)
        #expect(await settles(topic, at: n))
        #expect(try await consumeAll(v, "D", expected: n, tag: "d") == bodies(0..<n))
        #expect(await settles(topic, at: 0))
        #expect(topic.statistics.overReleases == 0)
        await storage.shutdown()
    }

    @Test func messagesRoutedNowhereAreFreedAtOnce() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E", "direct")
        try await v.declare("Q")
        try await v.bind("Q", "E", "yes")
        try await publish(v, "E", 0..<500, key: "no")
        try await publish(v, "E", 0..<10, key: "yes")
        let topic = try await transient(v, "E")
        #expect(topic.entryCount == 10)
        #expect(try await v.drain("Q").count == 10)
        #expect(topic.entryCount == 0)
        #expect(topic.statistics.overReleases == 0)
    }

    // MARK: every way an entry leaves a queue

    /// Requeued deliveries (nack requeue, or unacked at channel close, which requeues them) keep their
    /// message; the later ack releases it exactly once.
    @Test func requeueKeepsTheMessageAndTheFinalAckReleasesIt() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E", "fanout")
        try await v.declare("Q1")
        try await v.declare("Q2")
        try await v.bind("Q1", "E")
        try await v.bind("Q2", "E")
        try await publish(v, "E", 0..<50)
        let topic = try await transient(v, "E")
        let q2 = try await v.queue(named: "Q2", connectionID: 1)
        let sink = TestSink()
        let reg = consumer("c", sink: sink, prefetch: 100)
        try await q2.consume(reg)
        let first = await sink.wait(for: 50)
        #expect(first.count == 50)
        // The channel closes with everything unacked: the queue gets them back.
        await q2.cancel(consumerTag: "c")
        await q2.settle(first.map(\.deliveryID), .requeue)
        reg.credit.release(50)
        #expect(topic.entryCount == 50)
        // Redelivered to a new consumer, then acknowledged.
        #expect(try await consumeAll(v, "Q2", expected: 50, tag: "d") == bodies(0..<50))
        // Q1 still holds them all.
        #expect(topic.entryCount == 50)
        #expect(try await v.drain("Q1") == bodies(0..<50))
        #expect(await settles(topic, at: 0))
        #expect(topic.statistics.overReleases == 0)
    }

    @Test func basicGetWithAndWithoutAck() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E", "fanout")
        try await v.declare("Q1")
        try await v.declare("Q2")
        try await v.bind("Q1", "E")
        try await v.bind("Q2", "E")
        try await publish(v, "E", 0..<6)
        let topic = try await transient(v, "E")
        let q1 = try await v.queue(named: "Q1", connectionID: 1)
        let q2 = try await v.queue(named: "Q2", connectionID: 1)
        _ = try await v.drain("Q2")   // no-ack gets
        #expect(topic.entryCount == 6)
        let a = try #require(try await q1.get(noAck: false))
        let b = try #require(try await q1.get(noAck: false))
        await q1.settle([a.deliveryID], .ack)
        #expect(topic.entryCount == 5)
        await q1.settle([b.deliveryID], .requeue)
        #expect(topic.entryCount == 5)
        await q1.settle([a.deliveryID, b.deliveryID], .ack)   // a again: unknown id, nothing happens
        #expect(topic.entryCount == 5)
        _ = try #require(try await q1.get(noAck: true))   // b, redelivered
        #expect(topic.entryCount == 4)
        #expect(try await v.drain("Q1").count == 4)
        #expect(topic.entryCount == 0)
        #expect(try await q2.get(noAck: true) == nil)
        #expect(topic.statistics.overReleases == 0)
    }

    @Test func maxLengthDropHeadReleasesTheDroppedMessages() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E", "fanout")
        try await v.declare("Q1", arguments: ["x-max-length": 10])
        try await v.declare("Q2")
        try await v.bind("Q1", "E")
        try await v.bind("Q2", "E")
        try await publish(v, "E", 0..<3000)
        let topic = try await transient(v, "E")
        #expect(try await v.drain("Q2").count == 3000)
        #expect(await settles(topic, at: 10))
        #expect(try await v.drain("Q1") == bodies(2990..<3000))
        #expect(topic.entryCount == 0)
        #expect(topic.statistics.overReleases == 0)
    }

    @Test func expiredMessagesAreReleased() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E", "fanout")
        try await v.declare("Q1", arguments: ["x-message-ttl": 20])
        try await v.declare("Q2")
        try await v.bind("Q1", "E")
        try await v.bind("Q2", "E")
        try await publish(v, "E", 0..<2000)
        let topic = try await transient(v, "E")
        #expect(try await v.drain("Q2").count == 2000)
        #expect(await settles(topic, at: 0))
        #expect(try await v.messageCount("Q1") == 0)
        #expect(topic.statistics.overReleases == 0)
    }

    /// A dead-lettered transient message is published again (a new entry in the DLX's topic) before the
    /// original is released, so the copy always exists.
    @Test func deadLetteredMessagesLiveOnInTheDeadLetterExchange() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E", "fanout")
        try await v.declareExchange("dlx", "fanout")
        try await v.declare("dead")
        try await v.bind("dead", "dlx")
        try await v.declare("Q1", arguments: ["x-dead-letter-exchange": "dlx"])
        try await v.declare("Q2")
        try await v.bind("Q1", "E")
        try await v.bind("Q2", "E")
        try await publish(v, "E", 0..<300)
        let topic = try await transient(v, "E")
        let dlx = try await transient(v, "dlx")
        #expect(try await v.drain("Q2").count == 300)
        let q1 = try await v.queue(named: "Q1", connectionID: 1)
        var rejected: [UInt64] = []
        while let d = try await q1.get(noAck: false) { rejected.append(d.deliveryID) }
        #expect(rejected.count == 300)
        await q1.settle(rejected, .reject)
        #expect(await settles(topic, at: 0))
        #expect(dlx.entryCount == 300)
        #expect(try await v.drain("dead") == bodies(0..<300))
        #expect(dlx.entryCount == 0)
        #expect(topic.statistics.overReleases == 0)
        #expect(dlx.statistics.overReleases == 0)
    }

    /// x-overflow reject-publish-dlx: a refused message goes to the DLX and is released afterwards.
    @Test func refusedMessagesAreReleasedAfterDeadLettering() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E", "fanout")
        try await v.declareExchange("dlx", "fanout")
        try await v.declare("dead")
        try await v.bind("dead", "dlx")
        try await v.declare("Q1", arguments: ["x-dead-letter-exchange": "dlx", "x-max-length": 5,
                                             "x-overflow": "reject-publish-dlx"])
        try await v.bind("Q1", "E")
        try await publish(v, "E", 0..<100)
        let topic = try await transient(v, "E")
        await waitUntil { (try? await v.messageCount("dead")) == 95 }
        #expect(await settles(topic, at: 5))
        #expect(try await v.drain("dead") == bodies(5..<100))
        #expect(try await v.drain("Q1") == bodies(0..<5))
        #expect(topic.entryCount == 0)
        #expect(topic.statistics.overReleases == 0)
    }

    @Test func purgeReleasesTheWholeBacklog() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E", "fanout")
        try await v.declare("Q1")
        try await v.bind("Q1", "E")
        try await publish(v, "E", 0..<5000)
        let topic = try await transient(v, "E")
        let q1 = try await v.queue(named: "Q1", connectionID: 1)
        let held = try #require(try await q1.get(noAck: false))   // unacked: not purged
        #expect(try await v.purgeQueue(name: "Q1", connectionID: 1) == 4999)
        #expect(topic.entryCount == 1)
        // The purged index entries go too, though the unacked delivery below them keeps mark-delete at 0.
        let index = try #require(try await v.storage.topic(named: "queue./.Q1", kind: .nonPersistent) as? InMemoryTopic)
        #expect(index.entryCount == 1)
        await q1.settle([held.deliveryID], .ack)
        #expect(topic.entryCount == 0)
        try await publish(v, "E", 0..<10)
        #expect(try await v.drain("Q1") == bodies(0..<10))
        #expect(topic.entryCount == 0)
        #expect(topic.statistics.overReleases == 0)
    }

    @Test func deletingAQueueReleasesItsBacklogAndUnackedDeliveries() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E", "fanout")
        try await v.declare("Q1")
        try await v.declare("Q2", arguments: ["x-max-priority": 3])
        try await v.bind("Q1", "E")
        try await v.bind("Q2", "E")
        try await publish(v, "E", 0..<5000)
        let topic = try await transient(v, "E")
        let q1 = try await v.queue(named: "Q1", connectionID: 1)
        let sink = TestSink()
        try await q1.consume(consumer("c", sink: sink, prefetch: 100))
        let unacked = await sink.wait(for: 100)
        #expect(unacked.count == 100)
        #expect(try await v.deleteQueue(name: "Q1", ifUnused: false, ifEmpty: false, connectionID: 1) == 4900)
        await q1.settle(unacked.map(\.deliveryID), .ack)   // too late: the queue is gone
        #expect(topic.entryCount == 5000)   // Q2 holds them all
        _ = try await v.deleteQueue(name: "Q2", ifUnused: false, ifEmpty: false, connectionID: 1)
        #expect(topic.entryCount == 0)
        #expect(topic.statistics.overReleases == 0)
    }

    @Test func exclusiveQueuesGoWithTheirConnectionAndReleaseTheirMessages() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E", "fanout")
        try await v.declare("mine", exclusive: true, connection: 7)
        try await v.bindQueue(queue: "mine", exchange: "E", routingKey: "", arguments: [:], connectionID: 7)
        try await publish(v, "E", 0..<3000)
        let topic = try await transient(v, "E")
        #expect(topic.entryCount == 3000)
        await v.connectionClosed(connectionID: 7)
        #expect(topic.entryCount == 0)
        #expect(topic.statistics.overReleases == 0)
    }

    /// Priority levels: each level's entries are released on their own.
    @Test func priorityLevelsReleaseTheirEntries() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("E", "fanout")
        try await v.declare("P", arguments: ["x-max-priority": 4])
        try await v.bind("P", "E")
        for i in 0..<400 {
            try await v.send("E", [message("m\(i)", priority: UInt8(i % 5))])
        }
        let topic = try await transient(v, "E")
        #expect(topic.entryCount == 400)
        let drained = try await consumeAll(v, "P", expected: 400)
        #expect(drained.count == 400)
        #expect(Set(drained).count == 400)
        #expect(await settles(topic, at: 0))
        #expect(topic.statistics.overReleases == 0)
    }

    private static func removeTree(_ path: String) {
        let fs = PosixFileSystem()
        for name in (try? fs.listDirectory(path: path)) ?? [] { Self.removeTree(path + "/" + name) }
        try? fs.remove(path: path)
    }
}
