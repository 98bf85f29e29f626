import AOPStorage
import Testing

/// Values attached to in-memory topic entries (`appendNow(_:values:)`, `readValuesNow`).
@Suite struct InMemoryTopicValuesTests {
    final class Box: Sendable {
        let n: Int
        init(_ n: Int) { self.n = n }
    }

    @Test func valuesComeBackWithTheirPositionsAndPayloads() throws {
        let topic = InMemoryTopic(name: "t")
        _ = try topic.appendNow([[9]])   // no value attached
        let positions = try topic.appendNow([[], [1]], values: ["a", nil])
        #expect(positions == [Position(1), Position(2)])
        let entries = try topic.readValuesNow(positions: [Position(2), Position(0), Position(1), Position(7)])
        #expect(entries.map(\.position) == [Position(2), Position(0), Position(1)])
        #expect(entries.map(\.payload) == [[1], [9], []])
        #expect(entries[0].value == nil)
        #expect(entries[1].value == nil)
        #expect(entries[2].value as? String == "a")
    }

    @Test func protocolReadersSeeThePayloads() async throws {
        let topic = InMemoryTopic(name: "t")
        _ = try topic.appendNow([[5], []], values: [1, 2])
        let entries = try await topic.read(from: .zero, limit: 10)
        #expect(entries == [TopicEntry(position: Position(0), payload: [5]), TopicEntry(position: Position(1), payload: [])])
    }

    @Test func trimReleasesValues() async throws {
        let topic = InMemoryTopic(name: "t")
        weak var dropped: Box?
        do {
            let box = Box(1)
            dropped = box
            _ = try topic.appendNow([[], []], values: [box, Box(2)])
        }
        #expect(dropped != nil)
        try await topic.trim(before: Position(1))
        #expect(dropped == nil)
        let left = try topic.readValuesNow(positions: [Position(0), Position(1)])
        #expect(left.map(\.position) == [Position(1)])
        #expect((left[0].value as? Box)?.n == 2)
    }
}
