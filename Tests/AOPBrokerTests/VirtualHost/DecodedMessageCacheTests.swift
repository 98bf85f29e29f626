import Testing
@testable import AOPBroker
import AOPStorage
import AOPWire

@Suite struct DecodedMessageCacheTests {
    private func m(_ body: String, size: Int? = nil) -> Message {
        Message(exchange: "x", routingKey: "k", properties: BasicProperties(deliveryMode: 1),
                body: size.map { [UInt8](repeating: 0x61, count: $0) } ?? Array(body.utf8))
    }

    private func lookup(_ cache: DecodedMessageCache, topic: UInt32, _ raw: [UInt64]) -> (found: [Message?], missing: [Int]) {
        var out = [Message?](repeating: nil, count: raw.count)
        let missing = cache.lookup(topicID: topic, positions: raw.map { Position($0) }, indices: Array(raw.indices),
                                   into: &out)
        return (out, missing)
    }

    @Test func holdsWhatWasInsertedForItsTopicAndPosition() {
        let cache = DecodedMessageCache()
        cache.insert(topicID: 1, positions: [Position(10), Position(11)], messages: [self.m("a"), self.m("b")])
        let (found, missing) = self.lookup(cache, topic: 1, [11, 12, 10])
        #expect(found.map { $0.map { String(decoding: $0.body, as: UTF8.self) } } == ["b", nil, "a"])
        #expect(missing == [1])
        // Same positions of another topic: not held.
        #expect(self.lookup(cache, topic: 2, [10, 11]).missing == [0, 1])
    }

    @Test func emptyCacheMissesEverything() {
        #expect(self.lookup(DecodedMessageCache(), topic: 1, [0, 1, 2]).missing == [0, 1, 2])
    }

    @Test func skipsNilAndLargeBodies() {
        let cache = DecodedMessageCache()
        cache.insert(topicID: 1, positions: [Position(0), Position(1), Position(2)],
                     messages: [nil, self.m("", size: DecodedMessageCache.maxBodySize + 1), self.m("c")])
        #expect(self.lookup(cache, topic: 1, [0, 1, 2]).missing == [0, 1])
    }

    @Test func aLaterEntryInTheSameSlotReplacesAnEarlierOne() {
        let cache = DecodedMessageCache()
        let n = UInt64(DecodedMessageCache.slotCount)
        cache.insert(topicID: 1, positions: [Position(5)], messages: [self.m("old")])
        cache.insert(topicID: 1, positions: [Position(5 + n)], messages: [self.m("new")])
        #expect(self.lookup(cache, topic: 1, [5]).missing == [0])
        #expect(self.lookup(cache, topic: 1, [5 + n]).found[0]?.body == Array("new".utf8))
    }

    @Test func invalidateForgetsOnlyThatTopic() {
        let cache = DecodedMessageCache()
        cache.insert(topicID: 1, positions: [Position(0)], messages: [self.m("a")])
        cache.insert(topicID: 2, positions: [Position(1)], messages: [self.m("b")])
        cache.invalidate(topicID: 1)
        #expect(self.lookup(cache, topic: 1, [0]).missing == [0])
        #expect(self.lookup(cache, topic: 2, [1]).missing.isEmpty)
    }

    /// Through the vhost: a fanout's queues deliver every message (from the cache) with the right bodies.
    @Test func fanoutQueuesDeliverEachMessage() async throws {
        let vhost = try await makeVHost()
        try await vhost.declareExchange("f", "fanout")
        for q in ["q1", "q2", "q3"] {
            try await vhost.declare(q)
            try await vhost.bind(q, "f")
        }
        let bodies = (0..<50).map { "m\($0)" }
        let outcomes = try await vhost.send("f", bodies.map { message($0, exchange: "f") })
        #expect(outcomes == Array(repeating: .routed, count: 50))
        for q in ["q1", "q2", "q3"] { #expect(try await vhost.drain(q) == bodies) }
    }
}
