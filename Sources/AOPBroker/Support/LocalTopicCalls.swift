import AOPStorage

/// Topic calls that stay on the caller's executor when the topic is in memory.
///
/// `Topic`'s requirements are plain `nonisolated async`, so calling one from an actor on a ring loop
/// hops to the global pool and back (a cross-thread round trip, 13–21 µs) even though `InMemoryTopic`
/// only takes a mutex. These helpers are `nonisolated(nonsending)` (they run where the caller runs) and
/// call `InMemoryTopic`'s synchronous variants directly; other topics get the ordinary async call.
enum LocalTopicCalls {
    nonisolated(nonsending) static func append(_ topic: any Topic, _ payloads: [[UInt8]]) async throws(StorageError)
        -> [Position]
    {
        if let memory = topic as? InMemoryTopic { return try memory.appendNow(payloads) }
        return try await topic.append(payloads)
    }

    /// `Topic.waitUntilDurable`: an in-memory topic has nothing to wait for (and no hop is taken).
    nonisolated(nonsending) static func waitUntilDurable(_ topic: any Topic, through position: Position)
        async throws(StorageError)
    {
        if topic is InMemoryTopic { return }
        try await topic.waitUntilDurable(through: position)
    }

    nonisolated(nonsending) static func read(_ topic: any Topic, from: Position, limit: Int) async throws(StorageError)
        -> [TopicEntry]
    {
        if let memory = topic as? InMemoryTopic { return try memory.readNow(from: from, limit: limit) }
        return try await topic.read(from: from, limit: limit)
    }

    nonisolated(nonsending) static func read(_ topic: any Topic, positions: [Position]) async throws(StorageError)
        -> [TopicEntry]
    {
        if let memory = topic as? InMemoryTopic { return try memory.readNow(positions: positions) }
        return try await topic.read(positions: positions)
    }

    /// Opens a cursor; on an in-memory topic it runs on `executor` when that is shared, so the owner's
    /// per-batch acknowledgements are local calls.
    nonisolated(nonsending) static func cursor(_ topic: any Topic, named name: String, executor: ActorExecutor)
        async throws(StorageError) -> any Cursor
    {
        if executor.isShared, let memory = topic as? InMemoryTopic {
            return try memory.cursor(named: name, executor: executor)
        }
        return try await topic.cursor(named: name)
    }
}
