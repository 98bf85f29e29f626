import AOPStorage

extension VirtualHost {
    /// Lets storage reclaim entries of message topics on disk that no queue refers to any more: below the
    /// replicator (every older entry is indexed) and below the lowest position any queue still holds. A
    /// queue with a backlog beyond its in-memory window holds back only the topics it has indexed from.
    ///
    /// In-memory message topics are not trimmed here: each of their entries is freed when its last
    /// reference goes (see `MessageQueue+References`), whatever older entries are still held.
    func reclaimMessageTopics() async {
        var candidates: [(slot: MessageTopicSlot, limit: Position)] = []
        for entry in self.exchanges.values {
            for slot in [entry.actor.persistentSlot, entry.actor.transientSlot] where !(slot.topic is InMemoryTopic) {
                candidates.append((slot, await slot.replicator.markDeletePosition))
            }
        }
        guard !candidates.isEmpty else { return }
        var floors: [UInt32: Position] = [:]
        for queue in self.queues.values.map(\.actor) {
            for (id, p) in await queue.referencedFloor() where floors[id].map({ p < $0 }) ?? true { floors[id] = p }
        }
        for (slot, limit) in candidates {
            let bound = min(limit, floors[slot.id] ?? limit)
            guard bound > .zero else { continue }
            try? await slot.topic.trim(before: bound)
        }
    }

    /// What the vhost's in-memory message topics hold (transient messages; with an in-memory storage
    /// engine, persistent ones too), including those of deleted exchanges whose messages queues still hold.
    /// Live entries are messages some queue still holds or that are being routed; an entry no queue holds
    /// is freed at once.
    public func messageTopicStatistics() -> [MessageTopicStatistics] {
        var owners: [UInt32: String] = [:]
        for (name, entry) in self.exchanges {
            owners[entry.actor.persistentSlot.id] = name
            owners[entry.actor.transientSlot.id] = name
        }
        return self.topics.memoryTopics().map { id, topic in
            MessageTopicStatistics(exchange: owners[id], topic: topic.name, statistics: topic.statistics)
        }
    }

    /// Runs `reclaimMessageTopics` every `interval` while the vhost exists.
    func startReclaiming(every interval: Duration) {
        guard self.reclaimTask == nil else { return }
        self.reclaimTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                await self.reclaimMessageTopics()
            }
        }
    }
}
