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
    /// Known end of the index topic (next append position).
    var end: Position
    /// Entries below this were in the topic at open; they may have been acknowledged individually.
    var checkAcknowledgedBelow: Position
    var window: Deque<ReadyEntry> = []
    /// The index topic was trimmed below this (acknowledged entries reclaimed).
    var trimmedBelow: Position = .zero
    var loading = false

    var hasUnloaded: Bool { self.readPosition < self.end }

    /// Puts requeued entries back in index order (they all sort before the unloaded part).
    mutating func insertSorted(_ entries: [ReadyEntry]) {
        for e in entries.sorted(by: { $0.indexPosition < $1.indexPosition }).reversed() {
            var i = 0
            while i < self.window.count, self.window[i].indexPosition < e.indexPosition { i += 1 }
            self.window.insert(e, at: i)
        }
    }
}
