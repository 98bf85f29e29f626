/// The storage interface the broker uses. Two implementations plug in behind it: in-memory topics
/// (Pulsar's non-persistent topics; also used for tests) and the on-disk segmented log.
/// Broker code must not care which one it holds.

/// The position of an entry in a topic. Positions start at 0 and increase by one per entry, per topic.
public struct Position: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: UInt64
    public init(_ raw: UInt64) { self.raw = raw }
    public static func < (a: Position, b: Position) -> Bool { a.raw < b.raw }
    public var next: Position { Position(self.raw + 1) }
    public var description: String { "#\(self.raw)" }
    public static let zero = Position(0)
}

/// One stored entry.
public struct TopicEntry: Sendable, Hashable {
    public var position: Position
    public var payload: [UInt8]
    public init(position: Position, payload: [UInt8]) {
        self.position = position
        self.payload = payload
    }
}

public enum TopicKind: Sendable, Hashable {
    /// Durable: appends return once fsynced (group commit), content survives restart.
    case persistent
    /// In memory only: lost on restart (Pulsar's non-persistent topics).
    case nonPersistent
}

public struct StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        case noSpace            // ENOSPC: the broker blocks publishers and withholds confirms
        case io                 // any other I/O failure (errno in message)
        case corrupt            // checksum mismatch or bad record
        case notFound           // topic/cursor does not exist
        case closed             // engine or topic shut down
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(self.code): \(self.message)" }
}

/// An append-only log of entries addressed by position.
public protocol Topic: AnyObject, Sendable {
    var name: String { get }
    var kind: TopicKind { get }

    /// Appends the payloads in order and returns their positions (consecutive).
    /// For a persistent topic this returns only once the entries are durable; many concurrent appends,
    /// across topics, share one fdatasync.
    func append(_ payloads: [[UInt8]]) async throws(StorageError) -> [Position]

    /// Up to `limit` entries with position >= `from`, in order. Trimmed entries are skipped.
    func read(from: Position, limit: Int) async throws(StorageError) -> [TopicEntry]

    /// The entries at the given positions (random access, e.g. a queue fetching messages from an
    /// exchange's message topic). Positions that were trimmed are omitted.
    func read(positions: [Position]) async throws(StorageError) -> [TopicEntry]

    /// The position the next append will get.
    func endPosition() async -> Position

    /// Lets storage reclaim every entry below `position` (whole segments at a time, retention permitting).
    func trim(before position: Position) async throws(StorageError)

    /// Opens (creating if needed) a cursor over this topic. A cursor on a persistent topic is durable.
    func cursor(named name: String) async throws(StorageError) -> any Cursor

    func deleteCursor(named name: String) async throws(StorageError)

    /// Like `append`, but returns the positions once the entries are written (in the page cache), before
    /// they are durable and before readers see them; `waitUntilDurable(through:)` waits for the
    /// fdatasync. Lets a caller write related entries to other topics (a message's queue index entries)
    /// so that one group-commit round, held open with `holdCommits()`, covers them all.
    func appendWritten(_ payloads: [[UInt8]]) async throws(StorageError) -> [Position]

    /// Returns once every entry up to and including `position` is durable (and readable).
    func waitUntilDurable(through position: Position) async throws(StorageError)

    /// Keeps group-commit rounds from starting until the hold is released (or held too long); nil when
    /// the topic has no group commit.
    func holdCommits() async -> CommitHold?

    /// The end of the topic as recovered when this process opened it: a reference from an earlier run to a
    /// position at or past it points at an entry that never became durable (the position will be reused).
    /// `Position(.max)` for topics that cannot lose a written entry (in memory: nothing survives a
    /// restart, and nothing written is lost while running).
    var recoveredEnd: Position { get }
}

extension Topic {
    /// Default for topics without a separate durability step: the append is complete when it returns.
    public func appendWritten(_ payloads: [[UInt8]]) async throws(StorageError) -> [Position] {
        try await self.append(payloads)
    }

    public func waitUntilDurable(through position: Position) async throws(StorageError) {}

    public func holdCommits() async -> CommitHold? { nil }

    /// Default: no written entry is ever lost.
    public var recoveredEnd: Position { Position(.max) }
}

/// A consumption position over one topic (Pulsar's ManagedCursor): a mark-delete position plus
/// individually acknowledged positions above it. Durable cursors checkpoint acknowledgements so a
/// restart sees exactly what was acknowledged.
public protocol Cursor: Actor {
    nonisolated var name: String { get }
    /// Every position strictly below this is acknowledged.
    var markDeletePosition: Position { get }
    /// True when `position` has been acknowledged (below mark-delete or individually).
    func isAcknowledged(_ position: Position) -> Bool
    /// Acknowledges individual positions; mark-delete advances over contiguous acknowledged ranges.
    func acknowledge(_ positions: [Position]) async throws(StorageError)
    /// Acknowledges everything strictly below `position`.
    func acknowledge(upTo position: Position) async throws(StorageError)
    /// Acknowledges individual positions at once without waiting for durability: a later checkpoint
    /// makes them durable (for a durable cursor, within its checkpoint interval plus one group commit).
    /// A crash before that checkpoint forgets them (the entries come back), never the reverse.
    func acknowledgeEventually(_ positions: [Position])
    /// `acknowledge(upTo:)` without waiting for durability (see `acknowledgeEventually(_:)`).
    func acknowledgeEventually(upTo position: Position)
    /// Returns once every acknowledgement made so far is durable.
    func flush() async throws(StorageError)
}

/// Keys and values for definitions (vhosts, exchanges, queues, bindings, users). An embedded
/// implementation now; etcd for clusters later.
public protocol MetadataStore: Sendable {
    func put(_ key: String, _ value: [UInt8]) async throws(StorageError)
    func get(_ key: String) async throws(StorageError) -> [UInt8]?
    func delete(_ key: String) async throws(StorageError)
    /// Every (key, value) whose key starts with `prefix`, sorted by key.
    func list(prefix: String) async throws(StorageError) -> [(key: String, value: [UInt8])]
}

/// Opens topics and holds the metadata store.
public protocol StorageEngine: Sendable {
    /// Opens (or creates) a topic. A persistent topic that exists on disk is recovered.
    func topic(named name: String, kind: TopicKind) async throws(StorageError) -> any Topic
    func deleteTopic(named name: String) async throws(StorageError)
    var metadata: any MetadataStore { get }
    func shutdown() async
    /// Bytes free for this engine's files (statvfs `f_bavail`), or nil when it has no such limit or cannot
    /// tell. The broker polls it while its disk alarm is on.
    func availableBytes() async -> Int64?
}

extension StorageEngine {
    /// Default: no disk behind the engine.
    public func availableBytes() async -> Int64? { nil }
}
