import AOPStorage

extension MessageQueue {
    /// The index topic name of a priority level: `queue.<vhost>.<name>` for level 0,
    /// `queue-priority-<k>.<vhost>.<name>` above.
    static func indexTopicName(vhost: String, queue: String, level: Int) -> String {
        level == 0 ? "queue.\(vhost).\(queue)" : "queue-priority-\(level).\(vhost).\(queue)"
    }

    /// Opens the index topics of a queue. `fresh`: a new declaration, so leftovers of an earlier queue
    /// with the same name are deleted first. Otherwise (restart) the ready count and replay marks are
    /// rebuilt by scanning the unacknowledged part of each index (bounded memory, one pass).
    ///
    /// A message and its index entries are written in one group-commit round; a crash in that round can
    /// leave index entries durable whose message is not. Such entries point at or past the message topic's
    /// `recoveredEnd` (positions a new append will reuse): they are acknowledged durably here, before any
    /// publish, and never counted or delivered.
    static func openLevels(storage: any StorageEngine, vhost: String, definition: QueueDefinition,
                           policy: QueuePolicy, fresh: Bool, executor: ActorExecutor,
                           messageTopics: MessageTopics) async throws(StorageError)
        -> (levels: [IndexLevel], readyCount: Int, readyBytes: Int, lastIndexed: [UInt32: Position])
    {
        let kind: TopicKind = definition.durable ? .persistent : .nonPersistent
        var levels: [IndexLevel] = []
        var count = 0
        var bytes = 0
        var lastIndexed: [UInt32: Position] = [:]
        for level in 0..<policy.priorityLevels {
            let name = Self.indexTopicName(vhost: vhost, queue: definition.name, level: level)
            if fresh { try? await storage.deleteTopic(named: name) }
            let topic = try await storage.topic(named: name, kind: kind)
            let cursor = try await LocalTopicCalls.cursor(topic, named: Self.consumptionCursor, executor: executor)
            let end = await topic.endPosition()
            let markDelete = await cursor.markDeletePosition
            if !fresh {
                // Replay marks look a little below mark-delete too (acknowledged entries still count).
                var position = Position(markDelete.raw >= 1024 ? markDelete.raw - 1024 : 0)
                var stale: [Position] = []
                var recoveredEnds: [UInt32: Position] = [:]
                while position < end {
                    let chunk = try await IndexTopicCalls.read(topic, from: position, limit: 1024)
                    guard let last = chunk.last else { break }
                    for e in chunk {
                        guard let entry = e.entry else { continue }
                        if entry.persistent {
                            if recoveredEnds[entry.topicID] == nil {
                                recoveredEnds[entry.topicID] = messageTopics.topic(entry.topicID)?.recoveredEnd
                                    ?? Position(.max)
                            }
                            if entry.messagePosition >= recoveredEnds[entry.topicID]! {
                                if e.position >= markDelete { stale.append(e.position) }
                                continue
                            }
                        }
                        if (lastIndexed[entry.topicID] ?? .zero) < entry.messagePosition || lastIndexed[entry.topicID] == nil {
                            lastIndexed[entry.topicID] = entry.messagePosition
                        }
                        // Transient messages do not survive a restart (their message topic was in memory):
                        // they are not counted, and are acknowledged away when the window reaches them.
                        if entry.persistent, e.position >= markDelete, await !cursor.isAcknowledged(e.position) {
                            count += 1
                            bytes += Int(entry.bodySize)
                        }
                    }
                    position = last.position.next
                }
                if !stale.isEmpty { try await cursor.acknowledge(stale) }
            }
            levels.append(IndexLevel(topicName: name, topic: topic, cursor: cursor, readPosition: markDelete,
                                     end: end, checkAcknowledgedBelow: end))
        }
        return (levels, count, bytes, lastIndexed)
    }

    func restore(readyCount: Int, readyBytes: Int, lastIndexed: [UInt32: Position]) {
        self.readyCount = readyCount
        self.readyBytes = readyBytes
        self.lastIndexed = lastIndexed
        self.startIdleTimer()
        self.scheduleDispatch()
    }

    /// (ready messages, consumers) for declare-ok.
    func counts() -> (messages: UInt32, consumers: UInt32) {
        (UInt32(clamping: max(0, self.readyCount)), UInt32(clamping: self.consumers.count))
    }

    var isEmpty: Bool { self.readyCount <= 0 }
    var consumerCount: Int { self.consumers.count }

    /// queue.purge: drops every ready message (not the unacknowledged ones); returns how many.
    func purge() async -> UInt32 {
        guard case .running = self.lifecycle else { return 0 }
        let purged = UInt32(clamping: max(0, self.readyCount))
        self.generation += 1
        var toAck: [(level: Int, positions: [Position], upTo: Position?)] = []
        var toRelease: [(level: IndexLevel, unloaded: Range<Position>)] = []
        for level in self.levels.indices {
            var l = self.levels[level]
            let windowPositions = l.window.map(\.indexPosition)
            let unloaded = l.readPosition..<l.end
            // Taken out of the queue here, before any await: released once (messages and, in memory, the
            // index entries themselves; the unloaded ones below).
            self.topics.release(l.window.lazy.map(\.entry))
            (l.topic as? InMemoryTopic)?.release(windowPositions)
            toRelease.append((l, unloaded))
            l.window.removeAll()
            l.readPosition = l.end
            l.loading = false
            self.levels[level] = l
            let hasUnackedHere = self.unacked.values.contains { $0.level == level }
            if hasUnackedHere {
                toAck.append((level, windowPositions + (unloaded.lowerBound.raw..<unloaded.upperBound.raw).map(Position.init), nil))
            } else {
                toAck.append((level, [], l.end))
            }
        }
        self.readyCount = 0
        self.readyBytes = 0
        for (level, unloaded) in toRelease where !unloaded.isEmpty {
            await self.releaseUnloaded(level: level, unloaded, freeingIndexEntries: true)
        }
        for item in toAck {
            let cursor = self.levels[item.level].cursor
            if let upTo = item.upTo {
                try? await cursor.acknowledge(upTo: upTo)
            } else {
                var rest = item.positions[...]
                while !rest.isEmpty {
                    let chunk = rest.prefix(4096)
                    rest = rest.dropFirst(chunk.count)
                    try? await cursor.acknowledge(Array(chunk))
                }
            }
        }
        return purged
    }

    /// Deletes the queue's state: consumers are told (basic.cancel), timers stop, index topics go.
    /// Returns the number of ready messages it held.
    func shutdown() async -> UInt32 {
        guard case .running = self.lifecycle else { return 0 }
        self.lifecycle = .deleted
        let count = UInt32(clamping: max(0, self.readyCount))
        self.expiryTimer?.cancel()
        self.idleTimer?.cancel()
        self.expiryTimer = nil
        self.idleTimer = nil
        let members = self.consumers.members
        for m in members { _ = self.consumers.remove(tag: m.registration.tag) }
        for m in members { m.registration.sink.consumerCancelled(tag: m.registration.tag) }
        let names = self.levels.map(\.topicName)
        // Everything the queue holds leaves with it: the window, the unloaded index entries and the unacked
        // deliveries release their messages (entries being dead-lettered are released by that task).
        let levels = self.levels
        for level in self.levels.indices {
            self.topics.release(self.levels[level].window.lazy.map(\.entry))
            self.levels[level].window.removeAll()
            self.levels[level].readPosition = self.levels[level].end
        }
        self.readyCount = 0
        self.readyBytes = 0
        self.topics.release(self.unacked.values.map(\.ready.entry))
        self.unacked.removeAll()
        for level in levels where level.hasUnloaded {
            await self.releaseUnloaded(level: level, level.readPosition..<level.end, freeingIndexEntries: false)
        }
        if let storage = self.storage {
            for name in names { try? await storage.deleteTopic(named: name) }
        }
        return count
    }
}
