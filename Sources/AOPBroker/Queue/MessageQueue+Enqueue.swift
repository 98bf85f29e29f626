import DequeModule
import AOPStorage

extension MessageQueue {
    /// Adds index entries for a routed batch (one call per publish batch). With `deduplicate` (crash
    /// replay), entries at or below the highest position already indexed from the same message topic are
    /// reported accepted without being added again: an exchange's entries reach a queue in position order.
    func enqueue(_ items: [EnqueueItem], deduplicate: Bool) async -> [EnqueueResult] {
        let written = await self.writeIndex(items, deduplicate: deduplicate)
        return await self.completeIndex(written)
    }

    /// First half of `enqueue`: admission (length limits, TTL) and the index appends, written to the page
    /// cache but not yet durable (the caller holds the group commit open so one round covers the message
    /// and its index entries). `completeIndex` must follow, after the messages themselves are durable.
    func writeIndex(_ items: [EnqueueItem], deduplicate: Bool) async -> WrittenIndex {
        guard case .running = self.lifecycle else {
            return WrittenIndex(results: items.map { _ in .dropped }, groups: [], refused: [])
        }
        let now = WallClock.nowMilliseconds()
        var results = [EnqueueResult](repeating: .accepted, count: items.count)
        var perLevel: [[(slot: Int, entry: IndexEntry)]] = Array(repeating: [], count: self.levels.count)
        if perLevel.count == 1 { perLevel[0].reserveCapacity(items.count) }   // no priorities: grown once
        var admittedCount = 0
        var admittedBytes = 0
        var refused: [DeadLetterItem] = []
        let zeroTTLGrace: Int64 = self.consumers.members.contains { $0.registration.credit.hasCredit } ? 1000 : 0
        for (slot, item) in items.enumerated() {
            if deduplicate, let last = self.lastIndexed[item.topicID], item.position <= last { continue }
            if self.policy.overflow != .dropHead {
                let countFull = self.policy.maxLength.map { self.readyCount + admittedCount >= $0 } ?? false
                let bytesFull = self.policy.maxLengthBytes.map {
                    self.readyBytes + admittedBytes + Int(item.bodySize) > $0
                } ?? false
                if countFull || bytesFull {
                    results[slot] = .rejected
                    if self.policy.overflow == .rejectPublishDLX {
                        // Not in the index (level -1): dead-lettered with reason maxlen, nothing to acknowledge.
                        let entry = IndexEntry(topicID: item.topicID, messagePosition: item.position, expiresAt: 0,
                                               bodySize: item.bodySize, persistent: item.persistent)
                        refused.append(DeadLetterItem(level: -1, ready: ReadyEntry(indexPosition: .zero, entry: entry,
                                                                                    redelivered: false),
                                                      reason: .maxlen))
                    }
                    continue
                }
            }
            var ttl = self.policy.messageTTL
            if let e = item.expiration { ttl = min(ttl ?? e, e) }
            // TTL 0 (RabbitMQ): delivered only if a consumer can take it at once, else expired.
            let expiresAt = ttl.map { $0 <= 0 ? now + zeroTTLGrace : now + $0 } ?? 0
            let entry = IndexEntry(topicID: item.topicID, messagePosition: item.position,
                                   expiresAt: expiresAt,
                                   bodySize: item.bodySize, persistent: item.persistent)
            let level = min(Int(item.priority), self.levels.count - 1)
            perLevel[level].append((slot, entry))
            admittedCount += 1
            admittedBytes += Int(item.bodySize)
        }
        var groups: [WrittenIndex.Group] = []
        for (level, group) in perLevel.enumerated() where !group.isEmpty {
            do {
                let appended = try await IndexTopicCalls.appendWritten(self.levels[level].topic, group.map(\.entry))
                groups.append(.init(level: level, slots: group.map(\.slot), entries: group.map(\.entry),
                                    positions: appended))
            } catch {
                let result: EnqueueResult = error.code == .noSpace ? .noSpace : .rejected
                for g in group { results[g.slot] = result }
            }
        }
        let written = WrittenIndex(results: results, groups: groups, refused: refused)
        // The queue now holds these messages (indexed, or refused on their way to the DLX): one reference
        // each, taken before the exchange drops its own (`Exchange.commitReplicators`).
        self.retainMessages(of: written)
        return written
    }

    /// Second half of `enqueue`: waits until the index appends are durable, then makes the entries ready
    /// (window, counts, dispatch). Final results, one per item.
    func completeIndex(_ written: WrittenIndex) async -> [EnqueueResult] {
        var results = written.results
        for (g, group) in written.groups.enumerated() {
            guard let last = group.positions.last, self.levels.indices.contains(group.level) else {
                self.topics.release(group.entries)
                continue
            }
            do {
                try await LocalTopicCalls.waitUntilDurable(self.levels[group.level].topic, through: last)
            } catch {
                let result: EnqueueResult = error.code == .noSpace ? .noSpace : .rejected
                for slot in group.slots { results[slot] = result }
                // Never made ready, nor readable (the index topic refuses writes after a failed sync): the
                // queue's references to the messages end here. The range is completed all the same, so
                // loading may pass it (`IndexLevel.end` advances only over completed ranges).
                self.topics.release(group.entries)
                if let first = group.positions.first, self.levels.indices.contains(group.level) {
                    self.levels[group.level].complete(first..<last.next)
                }
                continue
            }
            guard case .running = self.lifecycle else {
                self.abandon(written, from: g)
                return results.map { _ in .dropped }
            }
            self.indexed(group.entries, at: group.positions, level: group.level)
        }
        guard case .running = self.lifecycle else {
            self.abandon(written, from: written.groups.count)
            return results.map { _ in .dropped }
        }
        self.deadLetter(written.refused)
        self.enforceLengthLimit()
        self.scheduleDispatch()
        self.scheduleExpiry()
        return results
    }

    /// The queue was deleted before `completeIndex` made these entries ready: nothing else will release
    /// the messages of groups `from...` and of the refused entries, so this does.
    private func abandon(_ written: WrittenIndex, from: Int) {
        for group in written.groups[from...] { self.topics.release(group.entries) }
        self.topics.release(written.refused.map(\.ready.entry))
    }

    /// Accounts for entries just appended to a level's index topic; keeps them in the window when it is
    /// caught up with the topic (no re-read), else they are loaded later.
    private func indexed(_ entries: [IndexEntry], at positions: [Position], level: Int) {
        guard let first = positions.first, let last = positions.last else { return }
        self.readyCount += entries.count
        // Highest position per message topic, written to the dictionary once per run of one topic.
        var runTopic: UInt32?
        var runMax = Position.zero
        func noteRun(_ queue: isolated MessageQueue) {
            guard let topic = runTopic else { return }
            if let known = queue.lastIndexed[topic], known >= runMax { return }
            queue.lastIndexed[topic] = runMax
        }
        for e in entries {
            self.readyBytes += Int(e.bodySize)
            if e.topicID != runTopic {
                noteRun(self)
                runTopic = e.topicID
                runMax = e.messagePosition
            } else if e.messagePosition > runMax {
                runMax = e.messagePosition
            }
        }
        noteRun(self)
        // Mutated in place: a copy of the level (`var l = self.levels[level]`) shares the window's storage,
        // so every append below would first copy the whole window.
        let inOrder = self.levels[level].complete(first..<last.next)
        let windowCount = self.levels[level].window.count
        if inOrder, !self.levels[level].loading, self.levels[level].readPosition == first,
           windowCount + entries.count <= Self.windowCapacity {
            for (e, p) in zip(entries, positions) {
                self.levels[level].window.append(ReadyEntry(indexPosition: p, entry: e, redelivered: false))
            }
            self.levels[level].readPosition = last.next
        }
    }

    /// x-max-length / x-max-length-bytes with drop-head: the oldest ready messages (lowest priority
    /// first) leave through the dead-letter path with reason `maxlen`.
    func enforceLengthLimit() {
        guard self.policy.overflow == .dropHead else { return }
        func over() -> Bool {
            if let max = self.policy.maxLength, self.readyCount > max { return true }
            if let max = self.policy.maxLengthBytes, self.readyBytes > max { return true }
            return false
        }
        var dropped: [DeadLetterItem] = []
        while over() {
            guard let level = self.levels.indices.first(where: { !self.levels[$0].window.isEmpty }),
                  let head = self.levels[level].window.popFirst()
            else {
                // Heads not loaded yet: load and retry.
                self.scheduleDispatch()
                break
            }
            self.readyCount -= 1
            self.readyBytes -= Int(head.entry.bodySize)
            dropped.append(DeadLetterItem(level: level, ready: head, reason: .maxlen))
        }
        self.deadLetter(dropped)
    }
}
