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
        return WrittenIndex(results: results, groups: groups, refused: refused)
    }

    /// Second half of `enqueue`: waits until the index appends are durable, then makes the entries ready
    /// (window, counts, dispatch). Final results, one per item.
    func completeIndex(_ written: WrittenIndex) async -> [EnqueueResult] {
        var results = written.results
        for group in written.groups {
            guard let last = group.positions.last, self.levels.indices.contains(group.level) else { continue }
            do {
                try await LocalTopicCalls.waitUntilDurable(self.levels[group.level].topic, through: last)
            } catch {
                let result: EnqueueResult = error.code == .noSpace ? .noSpace : .rejected
                for slot in group.slots { results[slot] = result }
                // Not counted, but no longer pending either: loading may pass them (their messages are
                // missing and the entries are dropped, as before).
                if let first = group.positions.first, self.levels.indices.contains(group.level) {
                    self.levels[group.level].complete(first..<last.next)
                }
                continue
            }
            guard case .running = self.lifecycle else { return results.map { _ in .dropped } }
            self.indexed(group.entries, at: group.positions, level: group.level)
        }
        guard case .running = self.lifecycle else { return results.map { _ in .dropped } }
        self.deadLetter(written.refused)
        self.enforceLengthLimit()
        self.scheduleDispatch()
        self.scheduleExpiry()
        return results
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
        var l = self.levels[level]
        let inOrder = l.complete(first..<last.next)
        if inOrder, !l.loading, l.readPosition == first, l.window.count + entries.count <= Self.windowCapacity {
            for (e, p) in zip(entries, positions) {
                l.window.append(ReadyEntry(indexPosition: p, entry: e, redelivered: false))
            }
            l.readPosition = last.next
        }
        self.levels[level] = l
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
