import AOPStorage
import DequeModule

/// An exchange's storage side: its message topics (persistent and transient, Pulsar's two kinds) and
/// their replicator cursors. Routing decisions are made by the vhost over its routing tables (plain
/// values); this actor runs the pipeline for a routed batch: append the messages → append index entries
/// to each destination queue (one hop per queue per round) → commit the replicator last.
///
/// Write rounds run one at a time, in arrival order, so replicator commits are monotonic and a queue sees an
/// exchange's entries in position order (which crash recovery relies on, see `MessageQueue.enqueue`).
/// Batches that arrive while a round runs are combined into the next one: one commit hold, one message
/// append per topic and one index write per destination queue for all of them, whatever the number of
/// publishing connections (each caller gets its own outcomes, see `PublishMerge`).
actor Exchange {
    nonisolated let name: String
    nonisolated let placement: ActorExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { self.placement.executor }
    let persistentSlot: MessageTopicSlot
    let transientSlot: MessageTopicSlot

    /// A write round (or a replay) is running.
    private var busy = false
    /// Who waits for the current round to end, in arrival order.
    private var waiters: Deque<Waiter> = []
    /// The finish phase of the last round begun (rounds commit their replicators in begin order).
    private var lastRound: Task<[PublishOutcome], Never>?
    /// Write rounds run and publish batches they carried (batches / rounds: how much combining happens).
    private(set) var roundsWritten = 0
    private(set) var batchesWritten = 0

    /// A caller waiting for the exchange.
    private enum Waiter {
        /// A publish batch: written by the next round (`.written`), or its caller runs that round (`.lead`).
        case publish([RoutedPublish], CheckedContinuation<BeginTurn, Never>)
        /// Exclusive use (crash replay).
        case exclusive(CheckedContinuation<Void, Never>)
    }

    /// How a queued publish batch's wait ended.
    private enum BeginTurn {
        /// Another caller's round wrote it.
        case written(PublishShare)
        /// Its caller runs the next round (taking every batch queued meanwhile).
        case lead
    }

    init(name: String, persistent: MessageTopicSlot, transient: MessageTopicSlot, executor: ActorExecutor) {
        self.name = name
        self.placement = executor
        self.persistentSlot = persistent
        self.transientSlot = transient
    }

    /// Stores and indexes a routed batch; one outcome per item, in order.
    ///
    /// One group-commit round covers the whole batch: the commit is held while the messages are written
    /// and the queues write their index entries (page cache only), then released; the messages must be
    /// durable before any queue makes its entries ready (a consumer must never find an entry whose message
    /// is not readable yet). Index entries that became durable while their message did not (a crash in
    /// that round) are discarded at the next start (`MessageQueue.openLevels`, `Topic.recoveredEnd`).
    func publish(_ items: [RoutedPublish]) async -> [PublishOutcome] {
        await self.beginPublish(items).outcomes()
    }

    /// The first half of `publish`: writes the batch (messages, then index entries) in arrival order, one
    /// round at a time; the share's `outcomes()` is the second half (durability, entries made ready,
    /// replicators). The next round may begin while this one waits for durability, so it is written as
    /// soon as this one's commit round ends: rounds are pipelined, and their order is kept (messages and
    /// index entries are written in begin order; each topic syncs its batches in order).
    ///
    /// Batches begun while a round runs wait, and the next round writes all of them as one batch (in
    /// arrival order): with many publishing connections each round carries many small batches instead of
    /// one, and each caller waits for one round rather than for every other caller's.
    func beginPublish(_ items: [RoutedPublish]) async -> PublishShare {
        if self.busy {
            let turn = await withCheckedContinuation { (continuation: CheckedContinuation<BeginTurn, Never>) in
                // Tested again in the body: the round may have ended between the call and here (the
                // publish worker lost wake-ups that way, see AMQPConnection.waitForPublishWork).
                if self.busy {
                    self.waiters.append(.publish(items, continuation))
                } else {
                    self.busy = true
                    continuation.resume(returning: .lead)
                }
            }
            if case .written(let share) = turn { return share }
        } else {
            self.busy = true
        }
        // This caller runs the round: its batch, then every publish batch queued before the next
        // exclusive waiter (replay), in arrival order.
        var batches = [items]
        var continuations: [CheckedContinuation<BeginTurn, Never>] = []
        while case .publish(let queued, let continuation)? = self.waiters.first {
            self.waiters.removeFirst()
            batches.append(queued)
            continuations.append(continuation)
        }
        let merge = PublishMerge(batches)
        self.roundsWritten += 1
        self.batchesWritten += batches.count
        batches = []
        let written = await self.writeRound(merge.items)
        let previous = self.lastRound
        let round = Task(executorPreference: self.placement.taskExecutor) {
            await self.finishRound(written, after: previous)
        }
        self.lastRound = round
        for (continuation, range) in zip(continuations, merge.ranges.dropFirst()) {
            continuation.resume(returning: .written(PublishShare(round: round, range: range)))
        }
        self.unlock()
        return PublishShare(round: round, range: merge.ranges[0])
    }

    /// Writes a round's batch (messages, then index entries); the commit is held meanwhile, so one
    /// group-commit round covers all of it.
    private func writeRound(_ items: [RoutedPublish]) async -> WrittenPublish {
        var positions = [Position?](repeating: nil, count: items.count)
        var noSpace = [Bool](repeating: false, count: items.count)
        let persistentIndices = items.indices.filter { items[$0].persistent }
        let transientIndices = items.indices.filter { !items[$0].persistent }
        let hold = persistentIndices.isEmpty ? nil : await self.persistentSlot.topic.holdCommits()
        var unsynced: Position?
        if !persistentIndices.isEmpty {
            do {
                let appended = try await self.persistentSlot.topic.appendWritten(persistentIndices.map { items[$0].record })
                for (i, p) in zip(persistentIndices, appended) { positions[i] = p }
                unsynced = appended.last
            } catch {
                // Those items stay nil → .rejected or .noSpace (the publisher gets a nack either way).
                if error.code == .noSpace { for i in persistentIndices { noSpace[i] = true } }
            }
        }
        if !transientIndices.isEmpty {
            do {
                let appended: [Position]
                if let memory = self.transientSlot.topic as? InMemoryTopic {
                    // The message itself is the entry: no record encoded here nor decoded by the queues.
                    appended = try memory.appendNow(transientIndices.map { items[$0].payload },
                                                    values: transientIndices.map { items[$0].message },
                                                    valueBytes: { Int(items[transientIndices[$0]].bodySize) })
                } else {
                    appended = try await LocalTopicCalls.append(self.transientSlot.topic,
                                                                transientIndices.map { items[$0].record })
                }
                for (i, p) in zip(transientIndices, appended) { positions[i] = p }
            } catch {
                if error.code == .noSpace { for i in transientIndices { noSpace[i] = true } }
            }
        }
        let written = await self.writeIndex(items, positions: positions, deduplicate: false)
        await hold?.release()
        return WrittenPublish(persistent: items.map(\.persistent), positions: positions, noSpace: noSpace,
                              unsynced: unsynced, queues: written)
    }

    /// The second half of a round: waits for the commit round, lets the queues make the entries ready,
    /// and advances the replicators (after the previous round's, so replicator commits stay monotonic).
    /// Outcomes, one per item of the round.
    private func finishRound(_ batch: WrittenPublish, after previous: Task<[PublishOutcome], Never>?) async
        -> [PublishOutcome]
    {
        var positions = batch.positions
        var noSpace = batch.noSpace
        if let unsynced = batch.unsynced {
            do {
                try await self.persistentSlot.topic.waitUntilDurable(through: unsynced)
            } catch {
                // Not durable: nacked. Index entries written for them point past the durable end of the
                // topic; reads omit such messages and the queues drop the entries on delivery.
                for i in positions.indices where batch.persistent[i] {
                    positions[i] = nil
                    if error.code == .noSpace { noSpace[i] = true }
                }
            }
        }
        var outcomes = await self.completeIndex(count: positions.count, batch.queues, positions: positions)
        for i in outcomes.indices where noSpace[i] { outcomes[i] = .noSpace }
        _ = await previous?.value
        await self.commitReplicators(persistent: batch.persistent, positions: positions)
        return outcomes
    }

    /// Entries of the message topics not yet covered by their replicator (after a crash), oldest first:
    /// position and message (nil when the record does not decode).
    func unreplicated(limit: Int) async -> [(persistent: Bool, position: Position, message: Message?)] {
        var out: [(Bool, Position, Message?)] = []
        for slot in [self.persistentSlot, self.transientSlot] {
            let from = await slot.replicator.markDeletePosition
            let persistent = slot.id == self.persistentSlot.id
            if let memory = slot.topic as? InMemoryTopic {
                // Transient messages are held as values (see `beginPublish`).
                let entries = (try? memory.readValuesNow(from: from, limit: limit)) ?? []
                out += entries.map { (persistent, $0.position, ($0.value as? Message) ?? MessageRecord.decode($0.payload)) }
            } else {
                let entries = (try? await slot.topic.read(from: from, limit: limit)) ?? []
                out += entries.map { (persistent, $0.position, MessageRecord.decode($0.payload)) }
            }
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
        await self.commitReplicators(persistent: items.map(\.persistent), positions: optional)
    }

    /// Per destination queue: the queue, its items (in order) and their indexes in the batch.
    typealias QueueBatch = (queue: MessageQueue, items: [EnqueueItem], slots: [Int])

    private func index(_ items: [RoutedPublish], positions: [Position?], deduplicate: Bool) async -> [PublishOutcome] {
        let written = await self.writeIndex(items, positions: positions, deduplicate: deduplicate)
        return await self.completeIndex(count: items.count, written, positions: positions)
    }

    /// Groups the batch per queue (keeping item order) and has every queue admit and write its index
    /// entries: one call per queue; concurrently when persistent entries are involved (one group commit
    /// covers them all), in turn for transient-only batches (local hops on a shared executor, no tasks).
    private func writeIndex(_ items: [RoutedPublish], positions: [Position?], deduplicate: Bool) async
        -> [(batch: QueueBatch, written: WrittenIndex)]
    {
        // Groups are found through the last one used, then a linear search; a dictionary only once there
        // are many.
        var groups: [QueueBatch] = []
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
        let persistent = items.contains(where: \.persistent)
        let batches = groups
        let written = await self.eachQueue(batches.count, concurrently: persistent) { g in
            await batches[g].queue.writeIndex(batches[g].items, deduplicate: deduplicate)
        }
        return Array(zip(groups, written)).map { (batch: $0.0, written: $0.1) }
    }

    /// One call per destination queue (by index), results in order: in turn when nothing is persistent
    /// (local hops on a shared executor, no tasks), else concurrently so one group commit covers them all.
    private func eachQueue<R: Sendable>(_ count: Int, concurrently: Bool,
                                        _ call: @escaping @Sendable (Int) async -> R) async -> [R] {
        if count <= 1 || !concurrently {
            var out: [R] = []
            out.reserveCapacity(count)
            for g in 0..<count { out.append(await call(g)) }
            return out
        }
        let taskExecutor = self.placement.taskExecutor
        var out = [R?](repeating: nil, count: count)
        await withTaskGroup(of: (Int, R).self) { group in
            for g in 0..<count {
                group.addTask(executorPreference: taskExecutor) { (g, await call(g)) }
            }
            for await (g, result) in group { out[g] = result }
        }
        return out.map { $0! }
    }

    /// Lets every queue finish (index durable, entries ready) and folds their results into one outcome
    /// per item. Items whose position is nil (append failed) are rejected.
    private func completeIndex(count: Int, _ written: [(batch: QueueBatch, written: WrittenIndex)],
                               positions: [Position?]) async -> [PublishOutcome] {
        var accepted = [Bool](repeating: false, count: count)
        var rejected = [Bool](repeating: false, count: count)
        var noSpace = [Bool](repeating: false, count: count)
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
        let persistent = written.contains { $0.batch.items.contains(where: \.persistent) }
        let results = await self.eachQueue(written.count, concurrently: persistent) { g in
            await written[g].batch.queue.completeIndex(written[g].written)
        }
        for (entry, result) in zip(written, results) { apply(entry.batch.slots, result) }
        return (0..<count).map { i in
            if positions[i] == nil { return .rejected }
            if rejected[i] { return .rejected }
            // An index append that hit ENOSPC in any destination queue: nacked (an ack would claim every
            // queue holds it).
            if noSpace[i] { return .noSpace }
            return accepted[i] ? .routed : .unroutable
        }
    }

    private func commitReplicators(persistent: [Bool], positions: [Position?]) async {
        for slot in [self.persistentSlot, self.transientSlot] {
            let isPersistent = slot.id == self.persistentSlot.id
            let last = positions.indices.compactMap { persistent[$0] == isPersistent ? positions[$0] : nil }.max()
            guard let last else { continue }
            // An in-memory entry is appended holding one reference, the replicator's; every queue that indexed
            // it holds its own by now (`MessageQueue.retainMessages`), so this frees the entries routed nowhere.
            (slot.topic as? InMemoryTopic)?.releaseAppenderReferences(below: last.next)
            // Not waited for: a replicator behind the truth only means the batch is replayed (idempotently)
            // after a crash, and it is always behind the index appends (made durable before this call).
            await slot.replicator.acknowledgeEventually(upTo: last.next)
        }
    }

    /// Exclusive use of the exchange (no round runs meanwhile), after the rounds and replays queued before.
    private func lock() async {
        if !self.busy {
            self.busy = true
            return
        }
        await withCheckedContinuation { continuation in
            // Tested again in the body: the lock may have been released between the call and here.
            if self.busy {
                self.waiters.append(.exclusive(continuation))
            } else {
                self.busy = true
                continuation.resume()
            }
        }
    }

    /// Passes the exchange to the first waiter (ownership passes directly; `busy` stays true), or frees it.
    private func unlock() {
        switch self.waiters.popFirst() {
        case .publish(_, let continuation): continuation.resume(returning: .lead)
        case .exclusive(let continuation): continuation.resume()
        case nil: self.busy = false
        }
    }
}
