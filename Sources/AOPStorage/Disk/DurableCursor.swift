/// A cursor on a persistent topic whose acknowledgements are checkpointed to the topic's cursor log.
/// Each change is applied in memory at once; `acknowledge` returns once a checkpoint covering it is
/// durable (checkpoints are written one at a time per cursor, latest state each time, group-committed
/// with everything else). If a checkpoint fails the error is thrown and the in-memory state stays ahead;
/// a later successful acknowledgement checkpoints it.
public actor DurableCursor: Cursor {
    public nonisolated let name: String
    private var acks: AckRangeSet
    private let log: KeyValueLog
    private var version: UInt64 = 0
    private var durableVersion: UInt64 = 0
    private var inFlight: (task: Task<Result<Void, StorageError>, Never>, version: UInt64)?

    init(name: String, acks: AckRangeSet, log: KeyValueLog) {
        self.name = name
        self.acks = acks
        self.log = log
    }

    public var markDeletePosition: Position { self.acks.markDelete }

    /// The full acknowledgement state (mark-delete and ranges).
    public var acknowledgements: AckRangeSet { self.acks }

    public func isAcknowledged(_ position: Position) -> Bool {
        self.acks.contains(position)
    }

    public func acknowledge(_ positions: [Position]) async throws(StorageError) {
        var changed = false
        for position in positions where self.acks.insert(position) { changed = true }
        guard changed else { return try await self.persist(upTo: self.version) }
        self.version += 1
        try await self.persist(upTo: self.version)
    }

    public func acknowledge(upTo position: Position) async throws(StorageError) {
        guard position > self.acks.markDelete else { return try await self.persist(upTo: self.version) }
        self.acks.advanceMarkDelete(to: position)
        self.version += 1
        try await self.persist(upTo: self.version)
    }

    /// Returns once the state of `target` (or later) is durable. One checkpoint is in flight at a time;
    /// whoever observes it complete (owner or waiter) records its outcome, so nobody spins on a finished task.
    private func persist(upTo target: UInt64) async throws(StorageError) {
        while self.durableVersion < target {
            let flight: Task<Result<Void, StorageError>, Never>
            let version: UInt64
            if let current = self.inFlight {
                (flight, version) = current
            } else {
                version = self.version
                let bytes = self.acks.encoded()
                let log = self.log
                let name = self.name
                flight = Task { () -> Result<Void, StorageError> in
                    do throws(StorageError) {
                        try await log.write(name, bytes)
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
                self.inFlight = (flight, version)
            }
            let result = await flight.value
            if self.inFlight?.task == flight { self.inFlight = nil }
            if case .success = result { self.durableVersion = max(self.durableVersion, version) }
            try result.get()
        }
    }
}
