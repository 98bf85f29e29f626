import AOPStorage

extension VirtualHost {
    /// Lets storage reclaim message-topic entries no queue refers to any more: below the replicator
    /// (every older entry is indexed) and below the lowest position any queue still holds. Queues with a
    /// backlog beyond their in-memory window report "unknown" and hold reclamation back.
    func reclaimMessageTopics() async {
        var candidates: [(slot: MessageTopicSlot, limit: Position)] = []
        for entry in self.exchanges.values {
            for slot in [entry.actor.persistentSlot, entry.actor.transientSlot] {
                candidates.append((slot, await slot.replicator.markDeletePosition))
            }
        }
        var floors: [UInt32: Position] = [:]
        for queue in self.queues.values.map(\.actor) {
            guard let floor = await queue.referencedFloor() else { return }
            for (id, p) in floor where floors[id].map({ p < $0 }) ?? true { floors[id] = p }
        }
        for (slot, limit) in candidates {
            let bound = min(limit, floors[slot.id] ?? limit)
            guard bound > .zero else { continue }
            try? await slot.topic.trim(before: bound)
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
