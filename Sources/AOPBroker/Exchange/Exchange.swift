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
    nonisolated let placement: ActorExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { self.placement.executor }
    let persistentSlot: MessageTopicSlot
    let transientSlot: MessageTopicSlot
    /// Where transient messages go once appended, so queues need not decode them again.
    let decoded: DecodedMessageCache

    private var busy = false
    private var waiters: Deque<CheckedContinuation<Void, Never>> = []

    init(name: String, persistent: MessageTopicSlot, transient: MessageTopicSlot, decoded: DecodedMessageCache,
         executor: ActorExecutor) {
        self.name = name
        self.decoded = decoded
        self.placement = executor
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
                let appended = try await LocalTopicCalls.append(slot.topic, indices.map { items[$0].payload })
                for (i, p) in zip(indices, appended) { positions[i] = p }
                if !persistent {
                    // Before indexing: a queue may dispatch as soon as its entries are in.
                    self.decoded.insert(topicID: slot.id, positions: appended, messages: indices.map { items[$0].message })
                }
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
        // Group per queue, keeping item order; one enqueue call per queue. Groups are found through the
        // last one used, then a linear search; a dictionary only once there are many.
        var groups: [(queue: MessageQueue, items: [EnqueueItem], slots: [Int])] = []
        var groupIndex: [ObjectIdentifier: Int] = [:]
        var last = 0
        func group(for queue: MessageQueue) -> Int {
            if last < groups.count, groups[last].queue === queue { return last }
            let found: Int?
            if groups.count <= 8 {
                found = groups.firstIndex { $0.queue === queue }
            } else {
                if groupIndex.isEmpty { for (g, e) in groups.enumerated() { groupIndex[ObjectIdentifier(e.queue)] = g } }
                found = groupIndex[ObjectIdentifier(queue)]
            }
            if let found {
                last = found
            } else {
                last = groups.count
                groups.append((queue, [], []))
                if !groupIndex.isEmpty { groupIndex[ObjectIdentifier(queue)] = last }
            }
            return last
        }
        for (i, item) in items.enumerated() {
            guard let position = positions[i] else { continue }
            let entry = EnqueueItem(topicID: item.persistent ? self.persistentSlot.id : self.transientSlot.id,
                                    position: position, bodySize: item.bodySize, persistent: item.persistent,
                                    expiration: item.expiration, priority: item.priority)
            for queue in item.queues {
                let g = group(for: queue)
                groups[g].items.append(entry)
                groups[g].slots.append(i)
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
        if groups.count == 1 {
            apply(groups[0].slots, await groups[0].queue.enqueue(groups[0].items, deduplicate: deduplicate))
        } else if !items.contains(where: \.persistent) {
            // Transient only: in-memory index appends have nothing to overlap, so one call per queue in
            // turn (on a shared executor each is a local hop; no child tasks).
            for entry in groups {
                apply(entry.slots, await entry.queue.enqueue(entry.items, deduplicate: deduplicate))
            }
        } else if !groups.isEmpty {
            // Persistent entries: the queues append concurrently so one group commit covers them all.
            let groups = groups
            let taskExecutor = self.placement.taskExecutor
            await withTaskGroup(of: (Int, [EnqueueResult]).self) { group in
                for (g, entry) in groups.enumerated() {
                    group.addTask(executorPreference: taskExecutor) {
                        (g, await entry.queue.enqueue(entry.items, deduplicate: deduplicate))
                    }
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
            // A failed commit only means the batch is replayed (idempotently) after a restart.
            try? await slot.replicator.acknowledge(upTo: last.next)
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
