import Synchronization

/// A storage engine that keeps every topic in memory, whatever its kind. For tests and for brokers
/// that need no durability; the on-disk engine uses `InMemoryTopic` for its non-persistent topics.
public final class InMemoryStorageEngine: StorageEngine {
    private struct State {
        var topics: [String: InMemoryTopic] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    private let store = InMemoryMetadataStore()

    public init() {}

    public var metadata: any MetadataStore { self.store }

    /// Opens or creates a topic. An existing topic is returned as it is, whatever `kind` asks for.
    public func topic(named name: String, kind: TopicKind) async throws(StorageError) -> any Topic {
        try self.state.withLock { (state) throws(StorageError) -> InMemoryTopic in
            guard !state.closed else { throw StorageError(.closed, "storage engine is shut down") }
            if let topic = state.topics[name] { return topic }
            let topic = InMemoryTopic(name: name, kind: kind)
            state.topics[name] = topic
            return topic
        }
    }

    public func deleteTopic(named name: String) async throws(StorageError) {
        let topic = try self.state.withLock { (state) throws(StorageError) -> InMemoryTopic in
            guard !state.closed else { throw StorageError(.closed, "storage engine is shut down") }
            guard let topic = state.topics.removeValue(forKey: name) else {
                throw StorageError(.notFound, "topic '\(name)' not found")
            }
            return topic
        }
        topic.close()
    }

    public func shutdown() async {
        let topics = self.state.withLock { state in
            state.closed = true
            defer { state.topics = [:] }
            return Array(state.topics.values)
        }
        for topic in topics { topic.close() }
    }
}
