import AOPIO
import Synchronization

/// Counters an operator (and the tests) can read from a `DiskStorageEngine`.
public struct DiskStorageStatistics: Sendable, Hashable {
    /// Entries found damaged (bad checksum or framing) outside a torn tail; never returned by reads.
    public var corruptEntries: Int = 0
    /// Bytes cut from torn tails during recovery.
    public var truncatedBytes: UInt64 = 0
    /// Group-commit rounds run by the durability scheduler.
    public var commitRounds: Int = 0
    /// fdatasync calls issued by the durability scheduler (at most one per dirty file per round).
    public var fileSyncs: Int = 0
    /// Reads served from a topic's tail cache instead of the file.
    public var tailCacheHits: Int = 0
    /// Entries made durable in persistent topics (every topic: message and index topics alike).
    public var entriesAppended: Int = 0
    /// Batched segment writes (one `write` each) that made those entries.
    public var appendWrites: Int = 0
    /// Time spent in commit rounds (start of the first fdatasync to the end of the last), in
    /// microseconds: divided by `commitRounds`, the mean round latency.
    public var commitMicroseconds: Int = 0
    /// Calls that waited for a commit round (one per topic batch, cursor-log write or metadata write).
    public var commitWaits: Int = 0
    /// Time those callers waited, from asking for a round to being resumed, in microseconds: divided by
    /// `commitWaits`, the mean commit latency (a round's own latency plus the wait for it to start).
    public var commitWaitMicroseconds: Int = 0
    /// Zeroed bytes written (and synced) ahead of active segments; see `DiskStorageOptions.preallocationBytes`.
    public var preallocatedBytes: Int = 0
}

/// Shared, thread-safe counters behind `DiskStorageStatistics`. Updated from topics and from concurrent
/// commit rounds at once, so the lock is contended: its critical sections are annotated for TSan
/// (`withLock(orderedFor:)`; a contended `Mutex` hands over through futex calls TSan does not see).
final class StorageCounters: Sendable {
    let values = Mutex(DiskStorageStatistics())

    func update(_ body: (inout DiskStorageStatistics) -> Void) {
        self.values.withLock(orderedFor: self) { body(&$0) }
    }

    var snapshot: DiskStorageStatistics { self.values.withLock(orderedFor: self) { $0 } }
}
