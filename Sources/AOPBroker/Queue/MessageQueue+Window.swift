import AOPStorage

extension MessageQueue {
    /// Loads index entries into every level whose window runs low. One read per level.
    func refillWindows() async {
        for level in self.levels.indices {
            await self.refill(level: level)
        }
    }

    func refill(level: Int) async {
        // Fields read one by one, not a copy of the level: a copy alive across the appends below would
        // share the window's storage and make the first append copy the whole window.
        if self.levels[level].loading {
            // Another caller is loading this level: wait for it (callers loop until they see entries).
            await withCheckedContinuation { continuation in
                // Tested again in the body: the load may have finished between the call and here.
                if level < self.levels.count, self.levels[level].loading {
                    self.loadWaiters.append(continuation)
                } else {
                    continuation.resume()
                }
            }
            return
        }
        let windowCount = self.levels[level].window.count
        guard self.levels[level].hasUnloaded, windowCount < Self.refillThreshold else { return }
        defer {
            let waiters = self.loadWaiters
            self.loadWaiters.removeAll()
            for w in waiters { w.resume() }
        }
        let from = self.levels[level].readPosition
        let topic = self.levels[level].topic
        let cursor = self.levels[level].cursor
        let checkAcknowledgedBelow = self.levels[level].checkAcknowledgedBelow
        let generation = self.generation
        self.levels[level].loading = true
        // Only the completed prefix (below `end`): see `IndexLevel.end`.
        let limit = min(Self.windowCapacity - windowCount, Int(clamping: self.levels[level].end.raw - from.raw))
        let entries = (try? await IndexTopicCalls.read(topic, from: from, limit: limit)) ?? []
        // Entries present at open may have been acknowledged individually before the restart.
        var acknowledged: Set<Position> = []
        for e in entries where e.position < checkAcknowledgedBelow {
            if await cursor.isAcknowledged(e.position) { acknowledged.insert(e.position) }
        }
        guard level < self.levels.count else { return }
        self.levels[level].loading = false
        guard case .running = self.lifecycle, generation == self.generation,
              self.levels[level].readPosition == from
        else { return }
        var next = from
        var lostTransients: [Position] = []
        for e in entries {
            next = e.position.next
            guard !acknowledged.contains(e.position), let entry = e.entry else { continue }
            if !entry.persistent, e.position < self.levels[level].checkAcknowledgedBelow {
                lostTransients.append(e.position)  // from before a restart: the message is gone
                continue
            }
            // Entries that were in the index before this start (a restart) may have been delivered before:
            // they come back flagged redelivered (delivery state is not persisted, so conservatively all).
            let recovered = e.position < self.levels[level].checkAcknowledgedBelow
            self.levels[level].window.append(ReadyEntry(indexPosition: e.position, entry: entry, redelivered: recovered))
        }
        if entries.isEmpty {
            // Nothing readable (trimmed or a failed read): treat the known end as reached.
            next = self.levels[level].end
        }
        self.levels[level].readPosition = next
        if !lostTransients.isEmpty {
            let cursor = self.levels[level].cursor
            await cursor.acknowledgeEventually(lostTransients)
        }
        if !entries.isEmpty, !self.consumers.isEmpty { self.scheduleDispatch() }
    }

    /// The highest-priority level with a loaded ready entry.
    var headLevel: Int? {
        self.levels.indices.last { !self.levels[$0].window.isEmpty }
    }

    /// Removes expired entries at the head of each level (RabbitMQ expires at the head) and hands them to
    /// the dead-letter path with reason `expired`.
    func expireHeads() {
        let now = WallClock.nowMilliseconds()
        var expired: [DeadLetterItem] = []
        for level in self.levels.indices {
            while let head = self.levels[level].window.first, head.entry.isExpired(now: now) {
                self.levels[level].window.removeFirst()
                self.readyCount -= 1
                self.readyBytes -= Int(head.entry.bodySize)
                expired.append(DeadLetterItem(level: level, ready: head, reason: .expired))
            }
        }
        self.deadLetter(expired)
    }

    /// Fetches the messages for index entries, batched per message topic: `result[i]` is the message of
    /// `entries[i]`, nil when it is missing (trimmed or undecodable).
    func fetchMessages(_ entries: [IndexEntry]) async -> [Message?] {
        self.fetchesInFlight += 1
        defer { self.fetchesInFlight -= 1 }
        var out = [Message?](repeating: nil, count: entries.count)
        guard let firstTopic = entries.first?.topicID else { return out }
        // Usually every entry comes from one message topic: no grouping needed.
        var groups: [(topicID: UInt32, slots: [Int])] = []
        if entries.allSatisfy({ $0.topicID == firstTopic }) {
            groups = [(firstTopic, Array(entries.indices))]
        } else {
            var byTopic: [UInt32: Int] = [:]
            for (i, e) in entries.enumerated() {
                if let g = byTopic[e.topicID] {
                    groups[g].slots.append(i)
                } else {
                    byTopic[e.topicID] = groups.count
                    groups.append((e.topicID, [i]))
                }
            }
        }
        let positions = entries.map(\.messagePosition)
        for (topicID, slots) in groups {
            guard let topic = self.topics.topic(topicID) else { continue }
            let wanted = slots.count == entries.count ? positions : slots.map { positions[$0] }
            // `found` keeps the order of the positions asked for, without the missing ones.
            var next = 0
            func place(_ position: Position, _ message: Message?) {
                while next < slots.count, entries[slots[next]].messagePosition != position { next += 1 }
                guard next < slots.count else { return }
                out[slots[next]] = message
                next += 1
            }
            if let memory = topic as? InMemoryTopic {
                // Transient messages are held as they are; records only when appended encoded.
                // Indexed, each value moved out before its cast: `for entry in` copied every entry (a
                // retain and release of its value and payload) before casting a second copy.
                var read = (try? memory.readValuesNow(positions: wanted)) ?? []
                for i in read.indices {
                    let value = read[i].value.take()
                    place(read[i].position, (value as? Message) ?? MessageRecord.decode(read[i].payload))
                }
            } else {
                for entry in (try? await LocalTopicCalls.read(topic, positions: wanted)) ?? [] {
                    place(entry.position, MessageRecord.decode(entry.payload))
                }
            }
        }
        return out
    }

    /// Acknowledges the index positions of entries on their levels' cursors (one call per level); an
    /// in-memory index topic frees those entries at once (`retire` is the only caller, so each is released
    /// once), so a delivery left unacknowledged does not keep every later, acknowledged entry of its level in
    /// memory. Entries of level -1 were never indexed: nothing to acknowledge.
    func acknowledge(_ items: [(level: Int, ready: ReadyEntry)]) async {
        var perLevel: [Int: [Position]] = [:]
        if self.levels.count == 1, items.allSatisfy({ $0.level == 0 }) {
            perLevel[0] = items.map(\.ready.indexPosition)   // no priorities: one level, no grouping
        } else {
            for item in items { perLevel[item.level, default: []].append(item.ready.indexPosition) }
        }
        for (level, positions) in perLevel where self.levels.indices.contains(level) {
            let l = self.levels[level]
            // Not waiting for the checkpoint: a settlement has no reply in AMQP, and a crash before the
            // checkpoint only redelivers (flagged redelivered). The cursor writes one checkpoint per
            // interval covering every acknowledgement since the last one.
            await l.cursor.acknowledgeEventually(positions)
            (l.topic as? InMemoryTopic)?.release(positions)
            // Let storage reclaim index entries below mark-delete, in steps.
            let markDelete = await l.cursor.markDeletePosition
            guard case .running = self.lifecycle, markDelete.raw >= self.levels[level].trimmedBelow.raw + 1024 else {
                continue
            }
            self.levels[level].trimmedBelow = markDelete
            try? await l.topic.trim(before: markDelete)
        }
    }

    /// Index entries held in memory (windows and unsettled deliveries), for memory-bound checks.
    var entriesInMemory: Int { self.levels.reduce(0) { $0 + $1.window.count } + self.unacked.count }
}
