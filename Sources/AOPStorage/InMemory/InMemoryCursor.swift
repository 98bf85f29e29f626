/// A cursor over an in-memory topic: mark-delete plus individually acknowledged ranges, lost on restart.
public actor InMemoryCursor: Cursor {
    public nonisolated let name: String
    private var acks: AckRangeSet

    public init(name: String, markDelete: Position = .zero) {
        self.name = name
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
