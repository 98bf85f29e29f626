import AOPIO
import Synchronization

/// A topic held in memory (Pulsar's non-persistent topic; also the test double for the broker).
/// Appends return immediately; everything is lost on restart. Thread-safe through a mutex, so calls
/// do not hop to an actor.
///
/// Every entry carries a reference count, one when appended (the appender's, which
/// `releaseAppenderReferences(below:)` ends exactly once per entry). `retain(_:)` and `release(_:)` move it; an
/// entry whose count reaches zero is freed at once, whatever entries before it are still held, so a
/// message topic holds only the messages some queue (or the replicator) still refers to. `trim(before:)`
/// frees a whole prefix regardless of counts (index topics, read in order, are reclaimed that way).
/// Reads omit freed entries.
public final class InMemoryTopic: Topic {
    public let name: String
    public let kind: TopicKind

    private struct State {
        var entries = SparseEntries()
        var cursors: [String: InMemoryCursor] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - name: the topic name.
    ///   - kind: reported by `kind`; an in-memory topic never survives a restart whatever the kind.
    public init(name: String, kind: TopicKind = .nonPersistent) {
        self.name = name
        self.kind = kind
    }

    /// Number of entries currently held (live: not freed, not trimmed).
    public var entryCount: Int {
        self.state.withLock(orderedFor: self) { $0.entries.liveEntries }
    }

    /// The lowest position still held (the end of the topic when none is).
    public var startPosition: Position {
        self.state.withLock(orderedFor: self) { Position($0.entries.firstLivePosition) }
    }

    /// Live entries and bytes, pages and over-releases (see `InMemoryTopicStatistics`).
    public var statistics: InMemoryTopicStatistics {
        self.state.withLock(orderedFor: self) { state in
            InMemoryTopicStatistics(liveEntries: state.entries.liveEntries, liveBytes: state.entries.liveBytes,
                                    pages: state.entries.pages.count, overReleases: state.entries.overReleases)
        }
    }

    public func append(_ payloads: [[UInt8]]) async throws(StorageError) -> [Position] {
        try self.appendNow(payloads)
    }

    /// `append` without suspending: a caller on a custom executor (a ring loop) stays there, where the
    /// protocol's nonisolated async call would hop to the global pool and back. Each entry starts with one
    /// reference.
    public func appendNow(_ payloads: [[UInt8]]) throws(StorageError) -> [Position] {
        try self.state.withLock(orderedFor: self) { (state) throws(StorageError) -> [Position] in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            var positions: [Position] = []
            positions.reserveCapacity(payloads.count)
            for payload in payloads {
                positions.append(Position(state.entries.append(payload: payload, value: nil, references: 1,
                                                               valueBytes: 0)))
            }
            return positions
        }
    }

    /// Appends entries that carry a value instead of (or besides) an encoded payload: `values[i]` is kept
    /// as it is and returned by `readValuesNow`, so an in-memory user need not encode and decode what it
    /// stores. Readers through the `Topic` protocol see `payloads[i]` (which may be empty). Each entry starts
    /// with one reference.
    public func appendNow(_ payloads: [[UInt8]], values: [(any Sendable)?]) throws(StorageError) -> [Position] {
        try self.appendNow(payloads, values: values, valueBytes: { _ in 0 })
    }

    /// `appendNow(_:values:)` that also counts, per entry, the bytes its value holds (`valueBytes(i)`, e.g. a
    /// message's body size) in `statistics.liveBytes`.
    public func appendNow(_ payloads: [[UInt8]], values: [(any Sendable)?], valueBytes: (Int) -> Int)
        throws(StorageError) -> [Position]
    {
        precondition(payloads.count == values.count, "one value per payload")
        return try self.state.withLock(orderedFor: self) { (state) throws(StorageError) -> [Position] in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            var positions: [Position] = []
            positions.reserveCapacity(payloads.count)
            for i in payloads.indices {
                let bytes = valueBytes(i)
                positions.append(Position(state.entries.append(payload: payloads[i], value: values[i], references: 1,
                                                               valueBytes: bytes)))
            }
            return positions
        }
    }

    /// Adds one reference to each entry at `positions` (a position listed twice gets two). Entries that are
    /// no longer held are skipped and counted in `statistics.overReleases`: a reference taken on a freed
    /// entry means an earlier release was one too many.
    /// - Returns: how many positions held no entry.
    @discardableResult
    public func retain(_ positions: [Position]) -> Int {
        self.state.withLock(orderedFor: self) { state in
            guard !state.closed else { return 0 }
            return state.entries.retain(positions)
        }
    }

    /// Drops one reference from each entry at `positions`; an entry left with none is freed at once (its
    /// payload and value released), older entries still held or not. Positions holding no entry are
    /// counted in `statistics.overReleases` (a caller released more than it retained).
    /// - Returns: how many positions held no entry.
    @discardableResult
    public func release(_ positions: [Position]) -> Int {
        self.state.withLock(orderedFor: self) { state in
            guard !state.closed else { return 0 }
            return state.entries.release(positions)
        }
    }

    /// Ends the reference each entry was appended with, for every entry below `position` that still holds
    /// it (the appender — a message topic's replicator — is done with them once they are routed). Each
    /// entry loses it exactly once, however often or out of order this is called.
    public func releaseAppenderReferences(below position: Position) {
        self.state.withLock(orderedFor: self) { state in
            guard !state.closed else { return }
            state.entries.releaseAppenderReferences(below: position.raw)
        }
    }

    /// Up to `limit` entries from `from` (or the first one held), with their attached values (see
    /// `readValuesNow(positions:)`). Freed entries are skipped.
    public func readValuesNow(from: Position, limit: Int) throws(StorageError) -> [TopicValueEntry] {
        try self.state.withLock(orderedFor: self) { (state) throws(StorageError) -> [TopicValueEntry] in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            guard limit > 0 else { return [] }
            var result: [TopicValueEntry] = []
            result.reserveCapacity(min(limit, Int(clamping: state.entries.nextPosition &- from.raw)))
            state.entries.forEachLive(from: from.raw) { position, slot in
                result.append(TopicValueEntry(position: Position(position), payload: slot.payload, value: slot.value))
                return result.count < limit
            }
            return result
        }
    }

    /// The entries at `positions` that are still held, in the order asked for, with the values attached
    /// when they were appended (nil for entries appended without one).
    public func readValuesNow(positions: [Position]) throws(StorageError) -> [TopicValueEntry] {
        try self.state.withLock(orderedFor: self) { (state) throws(StorageError) -> [TopicValueEntry] in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            var result: [TopicValueEntry] = []
            result.reserveCapacity(positions.count)
            state.entries.forEachLive(at: positions) { position, slot in
                result.append(TopicValueEntry(position: position, payload: slot.payload, value: slot.value))
            }
            return result
        }
    }

    public func read(from: Position, limit: Int) async throws(StorageError) -> [TopicEntry] {
        try self.readNow(from: from, limit: limit)
    }

    /// `read(from:limit:)` without suspending (see `appendNow`).
    public func readNow(from: Position, limit: Int) throws(StorageError) -> [TopicEntry] {
        try self.state.withLock(orderedFor: self) { (state) throws(StorageError) -> [TopicEntry] in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            guard limit > 0 else { return [] }
            var result: [TopicEntry] = []
            result.reserveCapacity(min(limit, Int(clamping: state.entries.nextPosition &- from.raw)))
            state.entries.forEachLive(from: from.raw) { position, slot in
                result.append(TopicEntry(position: Position(position), payload: slot.payload))
                return result.count < limit
            }
            return result
        }
    }

    public func read(positions: [Position]) async throws(StorageError) -> [TopicEntry] {
        try self.readNow(positions: positions)
    }

    /// `read(positions:)` without suspending (see `appendNow`).
    public func readNow(positions: [Position]) throws(StorageError) -> [TopicEntry] {
        try self.state.withLock(orderedFor: self) { (state) throws(StorageError) -> [TopicEntry] in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            var result: [TopicEntry] = []
            result.reserveCapacity(positions.count)
            state.entries.forEachLive(at: positions) { position, slot in
                result.append(TopicEntry(position: position, payload: slot.payload))
            }
            return result
        }
    }

    public func endPosition() async -> Position {
        self.state.withLock(orderedFor: self) { Position($0.entries.nextPosition) }
    }

    /// Drops every entry below `position` and below every cursor's mark-delete position, whatever its
    /// reference count.
    public func trim(before position: Position) async throws(StorageError) {
        let cursors = try self.state.withLock(orderedFor: self) { (state) throws(StorageError) -> [InMemoryCursor] in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            return Array(state.cursors.values)
        }
        var limit = position
        for cursor in cursors {
            limit = min(limit, await cursor.markDeletePosition)
        }
        self.state.withLock(orderedFor: self) { state in
            state.entries.trim(before: limit.raw)
        }
    }

    /// Opens (creating if needed) a cursor; a new cursor starts at the beginning of the topic (position 0).
    public func cursor(named name: String) async throws(StorageError) -> any Cursor {
        try self.cursor(named: name, executor: nil)
    }

    /// Opens (creating if needed) a cursor that runs on `executor` (nil: its own); an existing cursor keeps
    /// the executor it was created with.
    public func cursor(named name: String, executor: ActorExecutor?) throws(StorageError) -> InMemoryCursor {
        try self.state.withLock(orderedFor: self) { (state) throws(StorageError) -> InMemoryCursor in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            if let cursor = state.cursors[name] { return cursor }
            let cursor = InMemoryCursor(name: name, executor: executor ?? .standalone())
            state.cursors[name] = cursor
            return cursor
        }
    }

    public func deleteCursor(named name: String) async throws(StorageError) {
        try self.state.withLock(orderedFor: self) { (state) throws(StorageError) in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            guard state.cursors.removeValue(forKey: name) != nil else {
                throw StorageError(.notFound, "cursor '\(name)' on topic '\(self.name)' not found")
            }
        }
    }

    /// Closes the topic: later calls throw `.closed` and the entries are released.
    public func close() {
        self.state.withLock(orderedFor: self) { state in
            state.closed = true
            state.entries.removeAll()
            state.cursors = [:]
        }
    }
}
