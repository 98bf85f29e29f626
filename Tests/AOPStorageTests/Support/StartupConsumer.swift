@testable import AOPStorage

/// One consumer-like actor: opens a cursor on a topic, reads back what was appended, acknowledges it.
actor StartupConsumer {
    let topic: DiskTopic
    let cursorName: String

    init(topic: DiskTopic, cursorName: String) {
        self.topic = topic
        self.cursorName = cursorName
    }

    /// Reads every entry below `end` and acknowledges them one by one; returns the payloads read.
    func consume(until end: Position) async throws -> [[UInt8]] {
        let cursor = try await self.topic.durableCursor(named: self.cursorName)
        var payloads: [[UInt8]] = []
        var position = Position.zero
        while position < end {
            let entries = try await self.topic.read(from: position, limit: 7)
            guard let last = entries.last else { break }
            for entry in entries {
                payloads.append(entry.payload)
                try await cursor.acknowledge([entry.position])
            }
            position = Position(last.position.raw + 1)
        }
        try await cursor.acknowledge(upTo: end)
        return payloads
    }
}
