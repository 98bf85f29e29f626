@testable import AOPBroker
import AOPStorage
import Testing

/// `IndexLevel.end` is the completed prefix of a queue's index: publish rounds may complete out of order
/// (another exchange's round, or a later round of the same one), and entries past a gap must not be
/// loaded before the gap completes (their messages may not be readable yet).
@Suite struct IndexLevelCompletionTests {
    func level(end: UInt64) async throws -> IndexLevel {
        let storage = InMemoryStorageEngine()
        let topic = try await storage.topic(named: "q", kind: .nonPersistent)
        let cursor = try await topic.cursor(named: "c")
        return IndexLevel(topicName: "q", topic: topic, cursor: cursor, readPosition: Position(end),
                          end: Position(end), checkAcknowledgedBelow: .zero)
    }

    /// Completes entries `a..<b`; whether they extended the completed prefix directly.
    static func complete(_ l: inout IndexLevel, _ a: UInt64, _ b: UInt64) -> Bool {
        l.complete(Position(a)..<Position(b))
    }

    @Test func inOrderCompletionsExtendTheEnd() async throws {
        var l = try await self.level(end: 5)
        #expect(Self.complete(&l, 5, 8))
        #expect(Self.complete(&l, 8, 9))
        #expect(l.end == Position(9))
        #expect(l.completedAhead.isEmpty)
    }

    @Test func aRangeCompletedAheadWaitsForTheGap() async throws {
        var l = try await self.level(end: 0)
        #expect(!Self.complete(&l, 4, 6))      // entries 0..<4 not complete yet
        #expect(l.end == Position(0))
        #expect(!l.hasUnloaded)                     // nothing may be loaded
        #expect(!Self.complete(&l, 2, 4))
        #expect(l.end == Position(0))
        #expect(Self.complete(&l, 0, 2))       // the gap closes: both waiting ranges follow
        #expect(l.end == Position(6))
        #expect(l.completedAhead.isEmpty)
        #expect(l.hasUnloaded)
    }

    @Test func rangesBelowTheEndChangeNothing() async throws {
        var l = try await self.level(end: 10)
        #expect(Self.complete(&l, 3, 7))
        #expect(l.end == Position(10))
    }
}
