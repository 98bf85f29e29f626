import Testing
import AOPIO
import AOPStorage

/// `InMemoryTopic`'s synchronous variants (used by callers on ring loops) and cursors on a chosen executor.
@Suite struct InMemorySynchronousCallsTests {
    @Test func synchronousAndAsyncCallsSeeTheSameEntries() async throws {
        let topic = InMemoryTopic(name: "t")
        let first = try topic.appendNow([[1], [2]])
        let second = try await topic.append([[3]])
        #expect(first == [Position(0), Position(1)])
        #expect(second == [Position(2)])
        #expect(try topic.readNow(from: Position(1), limit: 10).map(\.payload) == [[2], [3]])
        #expect(try await topic.read(from: Position(1), limit: 10).map(\.payload) == [[2], [3]])
        // Positions come back in the order asked for, without the missing ones.
        let picked = try topic.readNow(positions: [Position(2), Position(7), Position(0)])
        #expect(picked.map(\.position) == [Position(2), Position(0)])
        #expect(picked.map(\.payload) == [[3], [1]])
    }

    @Test func aClosedTopicRefusesSynchronousCallsToo() throws {
        let topic = InMemoryTopic(name: "t")
        topic.close()
        #expect(throws: StorageError.self) { try topic.appendNow([[1]]) }
        #expect(throws: StorageError.self) { try topic.readNow(from: .zero, limit: 1) }
        #expect(throws: StorageError.self) { try topic.readNow(positions: [.zero]) }
    }

    /// A cursor opened on a ring loop works from other threads and keeps its state; reopening by name
    /// returns the same cursor.
    @Test func aCursorOnARingLoopIsTheCursorOfItsName() async throws {
        let group = try RingLoopGroup(loops: 1, namePrefix: "cursor-test")
        defer { group.shutdown() }
        let topic = InMemoryTopic(name: "t")
        let pinned = try topic.cursor(named: "c", executor: .pinned(to: group.loops[0]))
        try await pinned.acknowledge(upTo: Position(5))
        try await pinned.acknowledge([Position(7)])
        let again = try await topic.cursor(named: "c")
        #expect(again === pinned)
        #expect(await again.markDeletePosition == Position(5))
        #expect(await again.isAcknowledged(Position(7)))
        #expect(await !again.isAcknowledged(Position(6)))
    }
}
