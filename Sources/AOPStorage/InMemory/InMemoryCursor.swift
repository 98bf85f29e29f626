/// A cursor over an in-memory topic: mark-delete plus individually acknowledged ranges, lost on restart.
///
/// It can run on a caller-chosen executor (`executor:`), so an actor on that executor (a queue on a
/// ring loop) reaches it without a cross-thread hop.
public actor InMemoryCursor: Cursor {
    public nonisolated let name: String
    private nonisolated let placement: ActorExecutor
    private var acks: AckRangeSet

    public nonisolated var unownedExecutor: UnownedSerialExecutor { self.placement.executor }

    public init(name: String, markDelete: Position = .zero, executor: ActorExecutor = .standalone()) {
        self.name = name
        self.placement = executor
        self.acks = AckRangeSet(markDelete: markDelete)
    }

    public var markDeletePosition: Position { self.acks.markDelete }

    /// The full acknowledgement state (mark-delete and ranges).
    public var acknowledgements: AckRangeSet { self.acks }

    public func isAcknowledged(_ position: Position) -> Bool {
        self.acks.contains(position)
    }

    public func acknowledge(_ positions: [Position]) async throws(StorageError) {
        for position in positions {
            self.acks.insert(position)
        }
    }

    public func acknowledge(upTo position: Position) async throws(StorageError) {
        self.acks.advanceMarkDelete(to: position)
    }

    public func acknowledgeEventually(_ positions: [Position]) {
        for position in positions {
            self.acks.insert(position)
        }
    }

    public func acknowledgeEventually(upTo position: Position) {
        self.acks.advanceMarkDelete(to: position)
    }

    /// Nothing to write: an in-memory cursor is never durable.
    public func flush() async throws(StorageError) {}
}
