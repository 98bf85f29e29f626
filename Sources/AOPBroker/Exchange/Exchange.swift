import AOPStorage
import DequeModule

/// An exchange's storage side: its message topics (persistent and transient, Pulsar's two kinds) and
/// their replicator cursors. Routing decisions are made by the vhost over its routing tables (plain
/// values); this actor runs the pipeline for a routed batch: append the messages → append index entries
/// to each destination queue (one hop per queue per batch) → commit the replicator last.
///
/// Batches run one at a time, in arrival order, so replicator commits are monotonic and a queue sees an
/// exchange's entries in position order (which crash recovery relies on, see `MessageQueue.enqueue`).
actor Exchange {
    nonisolated let name: String
    let persistentSlot: MessageTopicSlot
    let transientSlot: MessageTopicSlot

    private var busy = false
    private var waiters: Deque<CheckedContinuation<Void, Never>> = []

    init(name: String, persistent: MessageTopicSlot, transient: MessageTopicSlot) {
        self.name = name
        self.persistentSlot = persistent
        self.transientSlot = transient
    }

    /// Stores and indexes a routed batch; one outcome per item, in order.
    func publish(_ items: [RoutedPublish]) async -> [PublishOutcome] {
        await self.lock()
        defer { self.unlock() }
        var positions = [Position?](repeating: nil, count: items.count)
        var noSpace = [Bool](repeating: false, count: items.count)
        for slot in [self.persistentSlot, self.transientSlot] {
            let persistent = slot.id == self.persistentSlot.id
            let indices = items.indices.filter { items[$0].persistent == persistent }
            guard !indices.isEmpty else { continue }
            do {
                let appended = try await slot.topic.append(indices.map { items[$0].payload })
                for (i, p) in zip(indices, appended) { positions[i] = p }
            } catch {
                // Those items stay nil → .rejected or .noSpace (the publisher gets a nack either way).
                if error.code == .noSpace { for i in indices { noSpace[i] = true } }
                continue
            }
        }
        var outcomes = await self.index(items, positions: positions, deduplicate: false)
        for i in items.indices where noSpace[i] { outcomes[i] = .noSpace }
        await self.commitReplicators(items, positions: positions)
        return outcomes
    }

    /// Entries of the message topics not yet covered by their replicator (after a crash), oldest first.
    func unreplicated(limit: Int) async -> [(persistent: Bool, entry: TopicEntry)] {
        var out: [(Bool, TopicEntry)] = []
        for slot in [self.persistentSlot, self.transientSlot] {
            let from = await slot.replicator.markDeletePosition
            let entries = (try? await slot.topic.read(from: from, limit: limit)) ?? []
            out += entries.map { (slot.id == self.persistentSlot.id, $0) }
        }
        return out
    }

    /// Re-indexes entries read by `unreplicated` (crash recovery). Queues skip entries they already hold.
    /// Entries routed nowhere are committed too.
    func replay(_ items: [RoutedPublish], positions: [Position]) async {
        await self.lock()
        defer { self.unlock() }
        let optional = positions.map { Optional($0) }
        _ = await self.index(items, positions: optional, deduplicate: true)
        await self.commitReplicators(items, positions: optional)
    }

    private func index(_ items: [RoutedPublish], positions: [Position?], deduplicate: Bool) async -> [PublishOutcome] {
        // Group per queue, keeping item order; one enqueue call per queue.
        var perQueue: [ObjectIdentifier: (queue: MessageQueue, items: [EnqueueItem], slots: [Int])] = [:]
        var order: [ObjectIdentifier] = []
        for (i, item) in items.enumerated() {
            guard let position = positions[i] else { continue }
            let entry = EnqueueItem(topicID: item.persistent ? self.persistentSlot.id : self.transientSlot.id,
                                    position: position, bodySize: item.bodySize, persistent: item.persistent,
                                    expiration: item.expiration, priority: item.priority)
            for queue in item.queues {
                let key = ObjectIdentifier(queue)
                if perQueue[key] == nil {
                    perQueue[key] = (queue, [], [])
                    order.append(key)
                }
                perQueue[key]!.items.append(entry)
                perQueue[key]!.slots.append(i)
            }
        }
        var accepted = [Bool](repeating: false, count: items.count)
        var rejected = [Bool](repeating: false, count: items.count)
        var noSpace = [Bool](repeating: false, count: items.count)
        func apply(_ slots: [Int], _ results: [EnqueueResult]) {
            for (slot, result) in zip(slots, results) {
                switch result {
                case .accepted: accepted[slot] = true
                case .rejected: rejected[slot] = true
                case .dropped: break
                case .noSpace: noSpace[slot] = true
                }
            }
        }
        if order.count == 1, let only = perQueue[order[0]] {
            apply(only.slots, await only.queue.enqueue(only.items, deduplicate: deduplicate))
        } else if !order.isEmpty {
            let groups = order.map { perQueue[$0]! }
            await withTaskGroup(of: (Int, [EnqueueResult]).self) { group in
                for (g, entry) in groups.enumerated() {
                    group.addTask { (g, await entry.queue.enqueue(entry.items, deduplicate: deduplicate)) }
                }
                for await (g, results) in group { apply(groups[g].slots, results) }
            }
        }
        return items.indices.map { i in
            if positions[i] == nil { return .rejected }
            if rejected[i] { return .rejected }
            // An index append that hit ENOSPC in any destination queue: nacked (an ack would claim every
            // queue holds it).
            if noSpace[i] { return .noSpace }
            return accepted[i] ? .routed : .unroutable
        }
    }

    private func commitReplicators(_ items: [RoutedPublish], positions: [Position?]) async {
        for slot in [self.persistentSlot, self.transientSlot] {
            let persistent = slot.id == self.persistentSlot.id
            let last = items.indices.compactMap { items[$0].persistent == persistent ? positions[$0] : nil }.max()
            guard let last else { continue }
            // Not waited for: a replicator behind the truth only means the batch is replayed (idempotently)
            // after a crash, and it is always behind the index appends (made durable before this call).
            await slot.replicator.acknowledgeEventually(upTo: last.next)
        }
    }

    private func lock() async {
        if !self.busy {
            self.busy = true
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    private func unlock() {
        if let next = self.waiters.popFirst() {
            next.resume()   // ownership passes directly; `busy` stays true
        } else {
            self.busy = false
        }
    }
}
