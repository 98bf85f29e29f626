@testable import AOPBroker
import AOPStorage
import AOPWire
import Testing

@Suite struct BacklogTests {
    @Test func memoryStaysBoundedWithBacklogAndOrderIsKept() async throws {
        let v = try await makeVHost()
        try await v.declare("big")
        let total = 6000
        for start in stride(from: 0, to: total, by: 500) {
            try await v.send("", (start..<start + 500).map { message("\($0)", key: "big") })
        }
        let q = try await v.queue(named: "big", connectionID: 1)
        #expect(try await v.messageCount("big") == UInt32(total))
        #expect(await q.entriesInMemory <= MessageQueue.windowCapacity)
        let sink = TestSink()
        let reg = consumer("c", sink: sink, prefetch: 100)
        try await q.consume(reg)
        var acked = 0
        while acked < total {
            await sink.wait(for: acked + 100)
            let pending = Array(sink.deliveries[acked...])
            #expect(await q.entriesInMemory <= MessageQueue.windowCapacity + 100)
            await q.settle(pending.map(\.deliveryID), .ack)
            reg.credit.release(pending.count)
            await q.creditAvailable()
            acked += pending.count
            if pending.isEmpty { break }
        }
        #expect(sink.bodies == (0..<total).map { "\($0)" })
        #expect(try await v.messageCount("big") == 0)
    }
}

@Suite struct ReclaimTests {
    @Test func consumedMessagesAreReclaimedButReferencedOnesStay() async throws {
        let storage = InMemoryStorageEngine()
        let v = try await makeVHost(storage)
        try await v.declare("a")
        try await v.declare("b")
        try await v.bind("a", "amq.fanout")
        try await v.bind("b", "amq.fanout")
        try await v.send("amq.fanout", (0..<10).map { message("\($0)") })
        let topic = try await storage.topic(named: "exchange-transient./.amq.fanout", kind: .nonPersistent)
        #expect(try await v.drain("a").count == 10)
        let qb = try await v.queue(named: "b", connectionID: 1)
        for _ in 0..<4 { _ = try await qb.get(noAck: true) }
        await v.reclaimMessageTopics()
        // Queue b still needs messages 4…9.
        let left = try await topic.read(from: .zero, limit: 100)
        #expect(left.map(\.position.raw) == Array(4..<10))
        #expect(try await v.drain("b") == (4..<10).map { "\($0)" })
        await v.reclaimMessageTopics()
        #expect(try await topic.read(from: .zero, limit: 100).isEmpty)
    }
}
