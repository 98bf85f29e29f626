import AOPStorage
import DequeModule

/// A ready index entry held in a queue's in-memory window.
struct ReadyEntry: Sendable {
    /// Position in the level's index topic (what the consumption cursor acknowledges).
    var indexPosition: Position
    var entry: IndexEntry
    var redelivered: Bool
}

/// One priority level of a queue: an index topic, its consumption cursor, and a bounded window of
/// ready entries loaded from the topic. Entries in `[readPosition, end)` are in the topic but not in
/// memory; they are loaded as the window drains, so memory does not grow with the backlog.
struct IndexLevel: Sendable {
    let topicName: String
    let topic: any Topic
    let cursor: any Cursor
    /// Next index position to load into the window.
    var readPosition: Position
    /// End of the completed prefix of the index topic: every entry below it has been made ready by
    /// `MessageQueue.completeIndex` (its message is readable). Loading never goes past it: an entry
    /// whose publish round has not completed may point at a message not yet readable, and would be
    /// dropped as missing (a confirmed message lost).
    var end: Position
    /// Ranges completed out of order (a later publish round finished first), absorbed into `end` once
    /// the entries before them complete.
    var completedAhead: [Range<Position>] = []
    /// Entries below this were in the topic at open; they may have been acknowledged individually.
    var checkAcknowledgedBelow: Position
    var window: Deque<ReadyEntry> = []
    /// The index topic was trimmed below this (acknowledged entries reclaimed).
    var trimmedBelow: Position = .zero
    var loading = false

    var hasUnloaded: Bool { self.readPosition < self.end }

    /// Records that the entries `range` of the index topic completed; returns whether they extend the
    /// completed prefix (`end`) directly (false: completed ahead of earlier entries, kept until those do).
    @discardableResult
    mutating func complete(_ range: Range<Position>) -> Bool {
        guard range.lowerBound <= self.end else {
            self.completedAhead.append(range)
            return false
        }
        if self.end < range.upperBound { self.end = range.upperBound }
        while let i = self.completedAhead.firstIndex(where: { $0.lowerBound <= self.end }) {
            if self.end < self.completedAhead[i].upperBound { self.end = self.completedAhead[i].upperBound }
            self.completedAhead.remove(at: i)
        }
        return true
    }

    /// Puts requeued entries back in index order (they all sort before the unloaded part).
    mutating func insertSorted(_ entries: [ReadyEntry]) {
        for e in entries.sorted(by: { $0.indexPosition < $1.indexPosition }).reversed() {
            var i = 0
            while i < self.window.count, self.window[i].indexPosition < e.indexPosition { i += 1 }
            self.window.insert(e, at: i)
        }
    }
}
