import AOPIO
import Synchronization

/// A topic held in memory (Pulsar's non-persistent topic; also the test double for the broker).
/// Appends return immediately; everything is lost on restart. Thread-safe through a mutex, so calls
/// do not hop to an actor.
public final class InMemoryTopic: Topic {
    public let name: String
    public let kind: TopicKind

    /// One entry: its payload and, when the appender attached one, the value it stands for.
    private struct Entry {
        var payload: [UInt8]
        var value: (any Sendable)?
    }

    private struct State {
        /// Entries from `entries[head]` (position `firstPosition`) to the end.
        var entries: [Entry] = []
        var head = 0
        var firstPosition: UInt64 = 0
        var cursors: [String: InMemoryCursor] = [:]
        var closed = false

        var nextPosition: UInt64 { self.firstPosition + UInt64(self.entries.count - self.head) }
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - name: the topic name.
    ///   - kind: reported by `kind`; an in-memory topic never survives a restart whatever the kind.
    public init(name: String, kind: TopicKind = .nonPersistent) {
        self.name = name
        self.kind = kind
    }

    /// Number of entries currently held (not trimmed).
    public var entryCount: Int {
        self.state.withLock(orderedFor: self) { $0.entries.count - $0.head }
    }

    /// The lowest position still held.
    public var startPosition: Position {
        self.state.withLock(orderedFor: self) { Position($0.firstPosition) }
    }

    public func append(_ payloads: [[UInt8]]) async throws(StorageError) -> [Position] {
        try self.appendNow(payloads)
    }

    /// `append` without suspending: a caller on a custom executor (a ring loop) stays there, where the
    /// protocol's nonisolated async call would hop to the global pool and back.
    public func appendNow(_ payloads: [[UInt8]]) throws(StorageError) -> [Position] {
        try self.state.withLock(orderedFor: self) { (state) throws(StorageError) -> [Position] in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            let first = state.nextPosition
            for payload in payloads { state.entries.append(Entry(payload: payload, value: nil)) }
            return (0..<UInt64(payloads.count)).map { Position(first + $0) }
        }
    }

    /// Appends entries that carry a value instead of (or besides) an encoded payload: `values[i]` is kept
    /// as it is and returned by `readValuesNow`, so an in-memory user need not encode and decode what it
    /// stores. Readers through the `Topic` protocol see `payloads[i]` (which may be empty).
    public func appendNow(_ payloads: [[UInt8]], values: [(any Sendable)?]) throws(StorageError) -> [Position] {
        precondition(payloads.count == values.count, "one value per payload")
        return try self.state.withLock(orderedFor: self) { (state) throws(StorageError) -> [Position] in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            let first = state.nextPosition
            for (payload, value) in zip(payloads, values) { state.entries.append(Entry(payload: payload, value: value)) }
            return (0..<UInt64(payloads.count)).map { Position(first + $0) }
        }
    }

    /// Up to `limit` entries from `from` (or the first one held), with their attached values (see
    /// `readValuesNow(positions:)`).
    public func readValuesNow(from: Position, limit: Int) throws(StorageError) -> [TopicValueEntry] {
        try self.state.withLock(orderedFor: self) { (state) throws(StorageError) -> [TopicValueEntry] in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            guard limit > 0 else { return [] }
            let start = max(from.raw, state.firstPosition)
            guard start < state.nextPosition else { return [] }
            let end = min(state.nextPosition, start + UInt64(limit))
            var result: [TopicValueEntry] = []
            result.reserveCapacity(Int(end - start))
            for raw in start..<end {
                let entry = state.entries[state.head + Int(raw - state.firstPosition)]
                result.append(TopicValueEntry(position: Position(raw), payload: entry.payload, value: entry.value))
            }
            return result
        }
    }

    /// The entries at `positions` that are still held, in order, with the values attached when they were
    /// appended (nil for entries appended without one).
    public func readValuesNow(positions: [Position]) throws(StorageError) -> [TopicValueEntry] {
        try self.state.withLock(orderedFor: self) { (state) throws(StorageError) -> [TopicValueEntry] in
            guard !state.closed else { throw StorageError(.closed, "topic '\(self.name)' is closed") }
            var result: [TopicValueEntry] = []
            result.reserveCapacity(positions.count)
            for position in positions where position.raw >= state.firstPosition && position.raw < state.nextPosition {
                let entry = state.entries[state.head + Int(position.raw - state.firstPosition)]
                result.append(TopicValueEntry(position: position, payload: entry.payload, value: entry.value))
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
            let start = max(from.raw, state.firstPosition)
            guard start < state.nextPosition else { return [] }
            let end = min(state.nextPosition, start + UInt64(limit))
            var result: [TopicEntry] = []
            result.reserveCapacity(Int(end - start))
            for raw in start..<end {
                let index = state.head + Int(raw - state.firstPosition)
                result.append(TopicEntry(position: Position(raw), payload: state.entries[index].payload))
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
            for position in positions where position.raw >= state.firstPosition && position.raw < state.nextPosition {
                let index = state.head + Int(position.raw - state.firstPosition)
                result.append(TopicEntry(position: position, payload: state.entries[index].payload))
            }
            return result
        }
    }

    public func endPosition() async -> Position {
        self.state.withLock(orderedFor: self) { Position($0.nextPosition) }
    }

    /// Drops every entry below `position` and below every cursor's mark-delete position.
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
            let end = min(limit.raw, state.nextPosition)
            guard end > state.firstPosition else { return }
            let drop = Int(end - state.firstPosition)
            // Release the payloads (and values) now; compact the array when the dropped prefix is large.
            for i in state.head..<(state.head + drop) { state.entries[i] = Entry(payload: [], value: nil) }
            state.head += drop
            state.firstPosition = end
            if state.head > 1024, state.head * 2 > state.entries.count {
                state.entries.removeFirst(state.head)
                state.head = 0
            }
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
            state.entries = []
            state.head = 0
            state.cursors = [:]
        }
    }
}
