import AOPStorage

/// Index-topic appends and reads. An in-memory index topic holds `IndexEntry` values as they are (no
/// 26-byte record allocated per entry); other topics hold the encoded records.
enum IndexTopicCalls {
    /// `Topic.appendWritten` of `entries` (written, not yet durable; in memory there is no difference).
    nonisolated(nonsending) static func appendWritten(_ topic: any Topic, _ entries: [IndexEntry])
        async throws(StorageError) -> [Position]
    {
        if let memory = topic as? InMemoryTopic {
            return try memory.appendNow(Array(repeating: [], count: entries.count), values: entries)
        }
        return try await topic.appendWritten(entries.map { $0.encoded() })
    }

    /// Up to `limit` entries from `from`: position and entry (nil when the record does not decode).
    nonisolated(nonsending) static func read(_ topic: any Topic, from: Position, limit: Int)
        async throws(StorageError) -> [(position: Position, entry: IndexEntry?)]
    {
        if let memory = topic as? InMemoryTopic {
            return try memory.readValuesNow(from: from, limit: limit).map {
                ($0.position, ($0.value as? IndexEntry) ?? IndexEntry(decoding: $0.payload))
            }
        }
        return try await topic.read(from: from, limit: limit).map { ($0.position, IndexEntry(decoding: $0.payload)) }
    }
}
