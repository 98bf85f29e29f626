@testable import AOPBroker
import AOPStorage
import Testing

/// `IndexEntry`'s packed in-memory form and its record; `IndexTopicCalls` over both kinds of topic.
@Suite struct IndexEntryTests {
    private let samples = [
        IndexEntry(topicID: 7, messagePosition: Position(123_456_789), expiresAt: 1_700_000_000_000, bodySize: 16,
                   persistent: true),
        IndexEntry(topicID: .max, messagePosition: Position(0), expiresAt: 0, bodySize: (1 << 31) - 1, persistent: false),
        IndexEntry(topicID: 0, messagePosition: Position(.max), expiresAt: -5, bodySize: 0, persistent: true),
    ]

    @Test func fieldsSurviveThePackingAndTheRecord() {
        #expect(MemoryLayout<IndexEntry>.size <= 24)
        #expect(self.samples[0].bodySize == 16 && self.samples[0].persistent)
        #expect(self.samples[1].bodySize == (1 << 31) - 1 && !self.samples[1].persistent)
        for e in self.samples {
            #expect(e.encoded().count == IndexEntry.encodedSize)
            #expect(IndexEntry(decoding: e.encoded()) == e)
        }
        var e = self.samples[0]
        e.persistent = false
        e.bodySize = 99
        #expect(e.bodySize == 99 && !e.persistent)
        e.persistent = true
        #expect(e.bodySize == 99 && e.persistent)
        // Sizes past 31 bits are clamped; the flag is untouched.
        let huge = IndexEntry(topicID: 1, messagePosition: Position(1), expiresAt: 0, bodySize: .max, persistent: false)
        #expect(huge.bodySize == (1 << 31) - 1 && !huge.persistent)
    }

    @Test func inMemoryIndexTopicsHoldValuesAndStillReadRecords() async throws {
        let memory = InMemoryTopic(name: "index")
        let positions = try await IndexTopicCalls.appendWritten(memory, self.samples)
        #expect(positions == [Position(0), Position(1), Position(2)])
        // Held as values: the protocol's readers see empty payloads.
        #expect(try await memory.read(from: .zero, limit: 10).allSatisfy(\.payload.isEmpty))
        let back = try await IndexTopicCalls.read(memory, from: Position(1), limit: 10)
        #expect(back.map(\.position) == [Position(1), Position(2)])
        #expect(back.map(\.entry) == Array(self.samples[1...]))
        // Records appended before (or by another writer) still decode.
        _ = try memory.appendNow([self.samples[0].encoded()])
        #expect(try await IndexTopicCalls.read(memory, from: Position(3), limit: 1).map(\.entry) == [self.samples[0]])
    }
}
