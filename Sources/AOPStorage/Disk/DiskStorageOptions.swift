#if canImport(Glibc)
import Glibc
#endif

/// Tuning for `DiskStorageEngine`.
public struct DiskStorageOptions: Sendable {
    /// A new segment file is started when the current one would grow past this (a single batch larger
    /// than this still goes into one segment).
    public var segmentSize: UInt64 = 64 << 20
    /// The sparse index keeps the offset of one entry in every `indexInterval`.
    public var indexInterval: Int = 64
    /// Appends waiting for a topic are written together up to about this many bytes per write.
    public var maxBatchBytes: Int = 4 << 20
    /// Largest payload accepted (and believed during recovery).
    public var maxEntrySize: Int = 64 << 20
    /// Zeroed bytes a topic keeps written and synced ahead of its active segment's end (up to this many;
    /// as many as the segment already holds, at least 64 KiB), so that a commit round's fdatasync finds
    /// the blocks allocated and has no size change to journal (PostgreSQL zero-fills its WAL segments for
    /// the same reason). 0 = append without preallocation. Recovery reads a zero tail as the end of data.
    public var preallocationBytes: Int = 4 << 20
    /// Bytes of each topic's most recent writes kept in memory for readers that keep up (0 = none).
    public var tailCacheBytes: Int = 128 << 10
    /// Retention of consumed segments.
    public var retention: Retention = .none
    /// The definitions log and cursor logs are rewritten when larger than this and more than twice
    /// their live content.
    public var compactionThreshold: UInt64 = 1 << 20
    /// Acknowledgements made with `Cursor.acknowledgeEventually` are checkpointed at most this often per
    /// cursor (one record and one share of a group commit covers every acknowledgement in between).
    /// A crash forgets at most this much (plus one group commit) of such acknowledgements: those
    /// messages are delivered again, flagged redelivered.
    public var cursorCheckpointInterval: Duration = .milliseconds(10)
    /// Longest a `CommitHold` may keep commit rounds from starting before it is overridden.
    public var maximumCommitHold: Duration = .milliseconds(2)
    /// Group-commit rounds allowed to run at once (a round starts without waiting for the previous one's
    /// fdatasyncs when this is above 1).
    public var maximumCommitRoundsInFlight: Int = 3
    /// Batches a topic may have written and not yet durable (1 or 2): with 2, the next batch is written
    /// while the previous one's commit round runs. Recovery's torn-tail rule allows for 2 either way.
    public var maximumUnsyncedBatches: Int = 2
    /// Milliseconds since the Unix epoch; replaceable for tests of retention by time.
    public var clock: @Sendable () -> UInt64 = DiskStorageOptions.systemClock

    public init() {}

    public static let systemClock: @Sendable () -> UInt64 = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}
