import AOPStorage
import Testing

@Suite struct InMemoryStorageTests {
    @Test func appendAssignsConsecutivePositionsAndReadsBack() async throws {
        let engine = InMemoryStorageEngine()
        let topic = try await engine.topic(named: "t", kind: .nonPersistent)
        let first = try await topic.append([[1], [2], [3]])
        let second = try await topic.append([[4]])
        #expect(first == [Position(0), Position(1), Position(2)])
        #expect(second == [Position(3)])
        #expect(await topic.endPosition() == Position(4))
        let all = try await topic.read(from: .zero, limit: 10)
        #expect(all.map(\.payload) == [[1], [2], [3], [4]])
        let some = try await topic.read(from: Position(1), limit: 2)
        #expect(some == [TopicEntry(position: Position(1), payload: [2]), TopicEntry(position: Position(2), payload: [3])])
        #expect(try await topic.read(from: Position(4), limit: 10).isEmpty)
        #expect(try await topic.read(from: .zero, limit: 0).isEmpty)
    }

    @Test func readByPositionsOmitsMissing() async throws {
        let topic = InMemoryTopic(name: "t")
        _ = try await topic.append((0..<10).map { [UInt8($0)] })
        try await topic.trim(before: Position(3))
        let entries = try await topic.read(positions: [Position(7), Position(1), Position(3), Position(42)])
        #expect(entries.map(\.position) == [Position(7), Position(3)])
        #expect(entries.map(\.payload) == [[7], [3]])
    }

    @Test func trimRespectsCursorMarkDelete() async throws {
        let topic = InMemoryTopic(name: "t")
        _ = try await topic.append((0..<10).map { [UInt8($0)] })
        let cursor = try await topic.cursor(named: "c")
        try await cursor.acknowledge(upTo: Position(4))
        try await topic.trim(before: Position(8))
        #expect(topic.startPosition == Position(4))
        #expect(try await topic.read(from: .zero, limit: 100).first?.position == Position(4))
        try await topic.deleteCursor(named: "c")
        try await topic.trim(before: Position(8))
        #expect(topic.startPosition == Position(8))
        #expect(topic.entryCount == 2)
        // Positions keep counting after a trim.
        #expect(try await topic.append([[99]]) == [Position(10)])
    }

    @Test func cursorAcknowledgesIndividuallyAndAdvances() async throws {
        let topic = InMemoryTopic(name: "t")
        _ = try await topic.append((0..<5).map { [UInt8($0)] })
        let cursor = try await topic.cursor(named: "c")
        try await cursor.acknowledge([Position(1), Position(3)])
        #expect(await cursor.markDeletePosition == .zero)
        #expect(await cursor.isAcknowledged(Position(3)))
        #expect(await !cursor.isAcknowledged(Position(2)))
        try await cursor.acknowledge([Position(0), Position(2)])
        #expect(await cursor.markDeletePosition == Position(4))
        // The same name returns the same cursor.
        let again = try await topic.cursor(named: "c")
        #expect(again === cursor)
        await #expect(throws: StorageError.self) { try await topic.deleteCursor(named: "missing") }
    }

    @Test func deleteAndShutdownCloseTopics() async throws {
        let engine = InMemoryStorageEngine()
        let topic = try await engine.topic(named: "t", kind: .persistent)
        #expect(topic.kind == .persistent)
        #expect(try await engine.topic(named: "t", kind: .persistent) === topic)
        try await engine.deleteTopic(named: "t")
        await #expect(throws: StorageError(.closed, "topic 't' is closed")) { _ = try await topic.append([[1]]) }
        await #expect(throws: StorageError.self) { try await engine.deleteTopic(named: "t") }
        let other = try await engine.topic(named: "u", kind: .nonPersistent)
        await engine.shutdown()
        await #expect(throws: StorageError.self) { _ = try await other.read(from: .zero, limit: 1) }
        await #expect(throws: StorageError.self) { _ = try await engine.topic(named: "v", kind: .persistent) }
    }

    @Test func metadataPutGetDeleteList() async throws {
        let store = InMemoryMetadataStore()
        try await store.put("q/b", [2])
        try await store.put("q/a", [1])
        try await store.put("x/a", [3])
        try await store.put("q/a", [9])
        #expect(try await store.get("q/a") == [9])
        let listed = try await store.list(prefix: "q/")
        #expect(listed.map(\.key) == ["q/a", "q/b"])
        #expect(listed.map(\.value) == [[9], [2]])
        try await store.delete("q/a")
        #expect(try await store.get("q/a") == nil)
        #expect(try await store.list(prefix: "").count == 2)
    }
}
