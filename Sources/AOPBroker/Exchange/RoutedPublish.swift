import AOPStorage

/// A message the vhost has routed, ready for the exchange's append-then-index pipeline.
struct RoutedPublish: Sendable {
    /// `MessageRecord`-encoded message; empty for a transient message (an in-memory topic keeps
    /// `message` itself, see `record`).
    var payload: [UInt8]
    /// The message itself (nil only for entries replayed after a crash, which are not appended again).
    var message: Message?
    /// Stored in the persistent message topic (persistent message reaching a durable queue).
    var persistent: Bool
    var queues: [MessageQueue]
    var bodySize: UInt32
    /// Per-message TTL from the `expiration` property, in ms.
    var expiration: Int64?
    /// The `priority` property (0 when absent).
    var priority: UInt8
}

extension RoutedPublish {
    /// The `MessageRecord` to store when the topic is not an in-memory one.
    var record: [UInt8] {
        if self.payload.isEmpty, let message = self.message { return MessageRecord.encode(message) }
        return self.payload
    }
}

/// Where a routed message goes: its destination queues, and whether any of them is durable.
struct RouteTargets: Sendable {
    var queues: [MessageQueue]
    var durable: Bool
}

/// One index entry to add to a queue, as the exchange hands it over.
struct EnqueueItem: Sendable {
    var topicID: UInt32
    var position: Position
    var bodySize: UInt32
    var persistent: Bool
    var expiration: Int64?
    var priority: UInt8
}

/// What a queue did with one `EnqueueItem`.
enum EnqueueResult: Sendable, Hashable {
    case accepted
    /// x-overflow reject-publish(-dlx) refused it.
    case rejected
    /// The queue was deleted meanwhile (or the index append failed): not enqueued.
    case dropped
    /// The index append failed with ENOSPC: not enqueued.
    case noSpace
}

/// Index entries a queue has admitted and written (not yet durable): `MessageQueue.writeIndex` →
/// `completeIndex`.
struct WrittenIndex: Sendable {
    struct Group: Sendable {
        var level: Int
        /// Item indexes (in the enqueue call) of the entries, in order.
        var slots: [Int]
        var entries: [IndexEntry]
        var positions: [Position]
    }
    /// Results so far: `.accepted` for admitted items (final once `completeIndex` ran).
    var results: [EnqueueResult]
    var groups: [Group]
    var refused: [MessageQueue.DeadLetterItem]
}

/// A round an exchange has written but not yet finished (`Exchange.beginPublish` → the round's finish).
struct WrittenPublish: Sendable {
    /// Per item: stored in the persistent message topic.
    var persistent: [Bool]
    /// Per item: its message-topic position, nil when the append failed.
    var positions: [Position?]
    var noSpace: [Bool]
    /// Last position written to the persistent message topic and not yet known durable.
    var unsynced: Position?
    var queues: [(batch: Exchange.QueueBatch, written: WrittenIndex)]
}
