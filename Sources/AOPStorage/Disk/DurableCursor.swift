/// A cursor on a persistent topic whose acknowledgements are checkpointed to the topic's cursor log.
/// Each change is applied in memory at once.
/// - `acknowledge` returns once a checkpoint covering it is durable (checkpoints are written one at a
///   time per cursor, latest state each time, group-committed with everything else). If a checkpoint
///   fails the error is thrown and the in-memory state stays ahead; a later checkpoint writes it.
/// - `acknowledgeEventually` returns at once; a checkpoint written at most `checkpointInterval` later
///   (plus one group commit) covers it. Many acknowledgements share one checkpoint record and one
///   fdatasync (Pulsar's ManagedCursor likewise rate-limits its mark-delete persistence).
public actor DurableCursor: Cursor {
    public nonisolated let name: String
    private var acks: AckRangeSet
    private let log: KeyValueLog
    private let checkpointInterval: Duration
    private var version: UInt64 = 0
    private var durableVersion: UInt64 = 0
    private var inFlight: (task: Task<Result<Void, StorageError>, Never>, version: UInt64)?
    /// The background checkpointer started by `acknowledgeEventually`, while it runs.
    private var checkpointer: Task<Void, Never>?
    /// Set by `close()`: no further checkpoint is written (the cursor was deleted or its topic closed).
    private var closed = false

    init(name: String, acks: AckRangeSet, log: KeyValueLog, checkpointInterval: Duration = .zero) {
        self.name = name
        self.acks = acks
        self.log = log
        self.checkpointInterval = checkpointInterval
    }

    public var markDeletePosition: Position { self.acks.markDelete }

    /// The full acknowledgement state (mark-delete and ranges).
    public var acknowledgements: AckRangeSet { self.acks }

    public func isAcknowledged(_ position: Position) -> Bool {
        self.acks.contains(position)
    }

    public func acknowledge(_ positions: [Position]) async throws(StorageError) {
        self.apply(positions)
        try await self.persist(upTo: self.version)
    }

    public func acknowledge(upTo position: Position) async throws(StorageError) {
        self.apply(upTo: position)
        try await self.persist(upTo: self.version)
    }

    public func acknowledgeEventually(_ positions: [Position]) {
        if self.apply(positions) { self.scheduleCheckpoint() }
    }

    public func acknowledgeEventually(upTo position: Position) {
        if self.apply(upTo: position) { self.scheduleCheckpoint() }
    }

    public func flush() async throws(StorageError) {
        try await self.persist(upTo: self.version)
    }

    /// Writes what is pending, then writes nothing more (cursor deleted, or its topic closing).
    func close() async {
        try? await self.persist(upTo: self.version)
        self.closed = true
    }

    /// True when the state changed (a new version to checkpoint).
    @discardableResult
    private func apply(_ positions: [Position]) -> Bool {
        var changed = false
        for position in positions where self.acks.insert(position) { changed = true }
        if changed { self.version += 1 }
        return changed
    }

    @discardableResult
    private func apply(upTo position: Position) -> Bool {
        guard position > self.acks.markDelete else { return false }
        self.acks.advanceMarkDelete(to: position)
        self.version += 1
        return true
    }

    private func scheduleCheckpoint() {
        guard self.checkpointer == nil, !self.closed else { return }
        self.checkpointer = Task { await self.runCheckpoints() }
    }

    /// Checkpoints until the durable state catches up, at most one checkpoint per interval. A failed
    /// checkpoint ends the loop; the next acknowledgement starts it again with the whole state.
    private func runCheckpoints() async {
        while !self.closed, self.durableVersion < self.version {
            if self.checkpointInterval > .zero {
                try? await Task.sleep(for: self.checkpointInterval)
                if self.closed { break }
            }
            do throws(StorageError) {
                try await self.persist(upTo: self.version)
            } catch {
                break
            }
        }
        self.checkpointer = nil
    }

    /// Returns once the state of `target` (or later) is durable. One checkpoint is in flight at a time;
    /// whoever observes it complete (owner or waiter) records its outcome, so nobody spins on a finished task.
    private func persist(upTo target: UInt64) async throws(StorageError) {
        while self.durableVersion < target {
            if self.closed { throw StorageError(.closed, "cursor '\(self.name)' is closed") }
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
