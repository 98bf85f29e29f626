import AOPStorage
import Synchronization

/// The vhost's message topics by numeric id, shared with its queues so they can fetch bodies for the
/// index entries they deliver. Ids are assigned once per topic name and persisted (see
/// `DefinitionStore`), so index entries stay valid across restarts and exchange re-declarations.
///
/// It also carries the queues' references on in-memory message topics: a queue retains an entry when it
/// indexes it and releases it once the entry has left the queue for good (`MessageQueue+References`), so
/// an `InMemoryTopic` frees each message as soon as no queue holds it. Entries of other topics (on disk)
/// are reclaimed by `VirtualHost.reclaimMessageTopics` instead; for them both calls do nothing.
final class MessageTopics: Sendable {
    private struct Registered {
        var topic: any Topic
        /// The same topic when it is in memory (cast once, not per call).
        var memory: InMemoryTopic?
    }

    private let byID: Mutex<[UInt32: Registered]> = Mutex([:])
    /// Largest position buffer a caller's scratch keeps between calls.
    static let scratchLimit = 1024

    func register(_ topic: any Topic, id: UInt32) {
        self.byID.withLock { $0[id] = Registered(topic: topic, memory: topic as? InMemoryTopic) }
    }

    func topic(_ id: UInt32) -> (any Topic)? {
        self.byID.withLock { $0[id]?.topic }
    }

    /// The in-memory topic registered under `id`, nil when the topic is on disk or unknown.
    func memoryTopic(_ id: UInt32) -> InMemoryTopic? {
        self.byID.withLock { $0[id]?.memory }
    }

    /// Every registered in-memory topic with its id.
    func memoryTopics() -> [(id: UInt32, topic: InMemoryTopic)] {
        self.byID.withLock { registered in
            registered.compactMap { id, r in r.memory.map { (id, $0) } }.sorted { $0.id < $1.id }
        }
    }

    /// Takes one reference on the message of each entry (in-memory topics only). `scratch` is a buffer
    /// the caller keeps between calls, so the positions handed to the topic need no new array each time.
    func retain(_ entries: some Collection<IndexEntry>, scratch: inout [Position]) {
        self.forEachMemoryTopic(entries, scratch: &scratch) { topic, positions in topic.retain(positions) }
    }

    /// Drops one reference from the message of each entry (in-memory topics only); a message no one holds
    /// any more is freed. `scratch`: see `retain`.
    func release(_ entries: some Collection<IndexEntry>, scratch: inout [Position]) {
        self.forEachMemoryTopic(entries, scratch: &scratch) { topic, positions in topic.release(positions) }
    }

    /// `release(_:scratch:)` with a buffer of its own (paths that are not per-message).
    func release(_ entries: some Collection<IndexEntry>) {
        var scratch: [Position] = []
        self.release(entries, scratch: &scratch)
    }

    /// Calls `body` once per in-memory message topic among `entries` with their message positions (usually
    /// every entry comes from one topic: no grouping then). The positions are collected in `scratch`.
    private func forEachMemoryTopic(_ entries: some Collection<IndexEntry>, scratch: inout [Position],
                                    _ body: (InMemoryTopic, [Position]) -> Int) {
        guard let firstID = entries.first?.topicID else { return }
        if entries.allSatisfy({ $0.topicID == firstID }) {
            guard let memory = self.memoryTopic(firstID) else { return }
            scratch.removeAll(keepingCapacity: true)
            for e in entries { scratch.append(e.messagePosition) }
            _ = body(memory, scratch)
            // Kept for the next call, up to 8 KiB: a queue that once saw a huge batch does not keep its size.
            if scratch.capacity > Self.scratchLimit { scratch = [] }
            return
        }
        var byTopic: [UInt32: [Position]] = [:]
        for e in entries { byTopic[e.topicID, default: []].append(e.messagePosition) }
        for (id, positions) in byTopic {
            guard let memory = self.memoryTopic(id) else { continue }
            _ = body(memory, positions)
        }
    }
}
