import AOPStorage
import DequeModule

/// How a queue holds the messages its index entries point at.
///
/// A message in an in-memory topic (transient, or any message with `InMemoryStorageEngine`) carries a
/// reference count (`InMemoryTopic`): the exchange's replicator holds one until the batch is routed, and
/// each queue that indexes the message holds one (`retainMessages`, when it writes the index entry). The
/// queue drops its reference exactly when the entry leaves the queue for good — acknowledged, delivered
/// with no-ack, dead-lettered (after the new copy was published), dropped by x-max-length or TTL, purged,
/// or deleted with the queue — and the topic frees the message when no reference is left.
///
/// Releases are exactly-once by construction: an entry is released only by the code that takes it out of
/// the queue's collections (window, `unacked`, the dead-letter queue, the unloaded index range), and each
/// of those removals happens once (`Dictionary.removeValue`, `Deque.popFirst`, moving `readPosition` to
/// `end`). Requeues put the entry back without touching its reference. A release the topic cannot match
/// is counted in `InMemoryTopicStatistics.overReleases` (tests expect 0).
extension MessageQueue {
    /// Takes the queue's reference on the messages of freshly written index entries (and of entries refused
    /// on their way to the dead-letter exchange), one lock per message topic per batch.
    func retainMessages(of written: WrittenIndex) {
        for group in written.groups { self.topics.retain(group.entries, scratch: &self.positionScratch) }
        if !written.refused.isEmpty {
            self.topics.retain(written.refused.lazy.map(\.ready.entry), scratch: &self.positionScratch)
        }
    }

    /// Entries that left the queue for good: their messages are released and their index positions
    /// acknowledged (entries never indexed, level -1, only released).
    func retire(_ items: [(level: Int, ready: ReadyEntry)]) async {
        self.topics.release(items.lazy.map(\.ready.entry), scratch: &self.positionScratch)
        await self.acknowledge(items)
    }

    /// Releases the messages of the index entries in `range` of a level's index topic: entries that were
    /// never loaded into the window and are leaving the queue (purge, delete). Entries from before a restart
    /// (below `checkAcknowledgedBelow`) are skipped: their transient messages died with the old process and
    /// the positions may hold other messages now; persistent ones are on disk, where releasing does nothing.
    /// With `freeingIndexEntries`, an in-memory index topic frees the entries read, too (purge: they are
    /// acknowledged, and an unacknowledged delivery below them must not keep them).
    func releaseUnloaded(level: IndexLevel, _ range: Range<Position>, freeingIndexEntries: Bool) async {
        var position = max(range.lowerBound, level.checkAcknowledgedBelow)
        while position < range.upperBound {
            let limit = Int(min(4096, range.upperBound.raw - position.raw))
            guard let chunk = try? await IndexTopicCalls.read(level.topic, from: position, limit: limit),
                  let last = chunk.last
            else { return }
            var entries: [IndexEntry] = []
            entries.reserveCapacity(chunk.count)
            for e in chunk where e.position < range.upperBound {
                if let entry = e.entry { entries.append(entry) }
            }
            self.topics.release(entries)
            if freeingIndexEntries, let memory = level.topic as? InMemoryTopic {
                memory.release(chunk.compactMap { $0.position < range.upperBound ? $0.position : nil })
            }
            position = last.position.next
        }
    }

    /// The lowest position this queue still refers to, per message topic, for reclaiming topics on disk
    /// (in-memory topics free each entry on its last release instead). When part of what the queue holds
    /// is not in memory (index entries not loaded, a load, a body fetch or dead-lettering in progress), every
    /// topic it has indexed from gets `.zero` (nothing reclaimable); topics it never indexed from are not
    /// held back. A deleted queue refers to nothing.
    func referencedFloor() -> [UInt32: Position] {
        guard case .running = self.lifecycle else { return [:] }
        var floor: [UInt32: Position] = [:]
        if self.fetchesInFlight > 0 || self.deadLetterRunning || self.levels.contains(where: { $0.hasUnloaded || $0.loading }) {
            for id in self.lastIndexed.keys { floor[id] = .zero }
        }
        func note(_ e: IndexEntry) {
            if let known = floor[e.topicID], known <= e.messagePosition { return }
            floor[e.topicID] = e.messagePosition
        }
        for level in self.levels { for r in level.window { note(r.entry) } }
        for u in self.unacked.values { note(u.ready.entry) }
        for d in self.deadLetters { note(d.ready.entry) }
        return floor
    }
}
