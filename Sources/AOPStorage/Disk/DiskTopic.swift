import AOPIO
import Logging

/// A persistent topic: a sequence of segment files in its own directory, appended with group commit,
/// read by position through a sparse index, trimmed by whole segments. See Docs/Storage.md.
///
/// Batches are pipelined: the next batch is written while the previous one's commit round runs, with at
/// most `DiskStorageOptions.maximumUnsyncedBatches` (≤ `SegmentScan.maximumUnsyncedBatches`) written and
/// not yet durable. Batches become durable and readable strictly in order (`DiskTopic+Commit.swift`).
public actor DiskTopic: Topic {
    struct PendingAppend {
        var payloads: [[UInt8]]
        var bytes: Int
        var waiter: CheckedContinuation<Result<[Position], StorageError>, Never>
        /// Resumed once written (`appendWritten`), not once durable (`append`).
        var early: Bool
    }

    public nonisolated let name: String
    public nonisolated var kind: TopicKind { .persistent }
    let directory: String
    let environment: TopicEnvironment
    var segments: [Segment]
    /// Position after the last durable entry; everything below is durable and readable.
    var nextPosition: UInt64
    /// Position the next batch gets: `nextPosition` plus the entries of the batches in flight.
    var writePosition: UInt64
    /// Batches written and waiting for their commit round, oldest first.
    var inFlight: [InFlightBatch] = []
    /// Callers waiting until at most so many batches are in flight (the drain loop for a free slot, a roll
    /// or `close` for none).
    var inFlightWaiters: [(atMost: Int, waiter: CheckedContinuation<Void, Never>)] = []
    /// Set when a commit round failed for this topic: every later batch fails too (they may depend on it).
    var commitFailure: StorageError?
    var pending: [PendingAppend] = []
    var writing = false
    /// Set when the topic is closed, or failed after an fdatasync error; appends then throw it.
    var failure: StorageError?
    var drainWaiters: [CheckedContinuation<Void, Never>] = []
    /// `waitUntilDurable` callers: resumed once `nextPosition` passes their position, or on failure.
    var durableWaiters: [(position: UInt64, waiter: CheckedContinuation<Result<Void, StorageError>, Never>)] = []
    public nonisolated let recoveredEnd: Position
    let cursorLog: KeyValueLog
    var cursors: [String: DurableCursor] = [:]
    var tailCache: TailCache
    /// A zero-fill of the active segment is in flight (`DiskTopic+Preallocate.swift`).
    var preallocating = false
    var preallocationWaiters: [CheckedContinuation<Void, Never>] = []

    init(name: String, directory: String, environment: TopicEnvironment, segments: sending [Segment],
         cursorLog: KeyValueLog) {
        self.name = name
        self.directory = directory
        self.environment = environment
        self.segments = segments
        self.nextPosition = segments.last?.endPosition ?? 0
        self.writePosition = segments.last?.endPosition ?? 0
        self.recoveredEnd = Position(segments.last?.endPosition ?? 0)
        self.cursorLog = cursorLog
        self.tailCache = TailCache(capacity: environment.options.tailCacheBytes)
    }

    var logger: Logger { self.environment.logger }

    /// Appends the payloads; returns once they are durable. Concurrent appends are written together
    /// (one write per batch) and share fdatasyncs with every other topic through the scheduler.
    public func append(_ payloads: [[UInt8]]) async throws(StorageError) -> [Position] {
        try await self.enqueue(payloads, early: false)
    }

    /// Returns the positions once the entries are in the page cache; see `Topic.appendWritten`.
    public func appendWritten(_ payloads: [[UInt8]]) async throws(StorageError) -> [Position] {
        try await self.enqueue(payloads, early: true)
    }

    public func waitUntilDurable(through position: Position) async throws(StorageError) {
        if position.raw < self.nextPosition { return }
        if let failure { throw failure }
        let result = await withCheckedContinuation { (waiter: CheckedContinuation<Result<Void, StorageError>, Never>) in
            // Tested again inside the body (a commit may land between the checks above and this body when
            // the caller's executor interleaves other jobs; see AMQPConnection.waitForPublishWork).
            if position.raw < self.nextPosition {
                waiter.resume(returning: .success(()))
            } else if let failure = self.failure {
                waiter.resume(returning: .failure(failure))
            } else {
                self.durableWaiters.append((position.raw, waiter))
            }
        }
        try result.get()
    }

    public func holdCommits() async -> CommitHold? {
        await self.environment.scheduler.hold()
    }

    private func enqueue(_ payloads: [[UInt8]], early: Bool) async throws(StorageError) -> [Position] {
        if let failure { throw failure }
        guard !payloads.isEmpty else { return [] }
        for payload in payloads where payload.count > self.environment.options.maxEntrySize {
            throw StorageError(.io, "entry of \(payload.count) bytes exceeds the maximum entry size")
        }
        let bytes = payloads.reduce(0) { $0 + $1.count + EntryFormat.headerSize }
        let result = await withCheckedContinuation { waiter in
            self.pending.append(PendingAppend(payloads: payloads, bytes: bytes, waiter: waiter, early: early))
            if !self.writing {
                self.writing = true
                Task { await self.drain() }
            }
        }
        return try result.get()
    }

    /// Resumes the `waitUntilDurable` callers whose positions are now durable; on failure (or close), the
    /// others fail.
    func resumeDurableWaiters() {
        guard !self.durableWaiters.isEmpty else { return }
        let end = self.nextPosition
        var keep: [(position: UInt64, waiter: CheckedContinuation<Result<Void, StorageError>, Never>)] = []
        for w in self.durableWaiters {
            if w.position < end {
                w.waiter.resume(returning: .success(()))
            } else if let failure = self.failure {
                w.waiter.resume(returning: .failure(failure))
            } else {
                keep.append(w)
            }
        }
        self.durableWaiters = keep
    }

    /// Positions of each request of a batch starting at `first`, in order.
    private static func positions(of batch: [PendingAppend], first: UInt64) -> [[Position]] {
        var next = first
        return batch.map { request in
            let positions = (0..<UInt64(request.payloads.count)).map { Position(next + $0) }
            next += UInt64(request.payloads.count)
            return positions
        }
    }

    public func endPosition() async -> Position {
        Position(self.nextPosition)
    }

    /// The lowest position still stored.
    public var startPosition: Position { Position(self.segments.first?.firstPosition ?? self.nextPosition) }

    /// Number of segment files.
    public var segmentCount: Int { self.segments.count }

    /// Number of sparse-index entries held in memory over all segments.
    public var indexEntryCount: Int { self.segments.reduce(0) { $0 + ($1.scan?.index.count ?? 0) } }

    private func drain() async {
        let depth = min(max(1, self.environment.options.maximumUnsyncedBatches), SegmentScan.maximumUnsyncedBatches)
        while !self.pending.isEmpty {
            if let failure = self.failure {
                let failed = self.pending
                self.pending = []
                for request in failed { request.waiter.resume(returning: .failure(failure)) }
                break
            }
            if self.inFlight.count >= depth {
                await self.waitForInFlight(atMost: depth - 1)
                continue
            }
            var count = 0
            var bytes = 0
            while count < self.pending.count,
                  count == 0 || bytes + self.pending[count].bytes <= self.environment.options.maxBatchBytes {
                bytes += self.pending[count].bytes
                count += 1
            }
            let batch = Array(self.pending[0..<count])
            self.pending.removeFirst(count)
            if case .failure(let error) = await self.write(batch, bytes: bytes) {
                for request in batch { request.waiter.resume(returning: .failure(error)) }
            }
            // Let the appenders just resumed queue their next appends, so they join the next batch
            // instead of trickling into two half-sized alternating batches.
            await Task.yield()
        }
        // Batches still in flight complete on their own (`commitBatch`); `close` waits for them.
        self.writing = false
        let waiters = self.drainWaiters
        self.drainWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// Writes one batch into the active segment (rolling first when full; a roll waits until every batch in
    /// flight is durable, so a sealed segment never holds unsynced entries), resumes its `appendWritten`
    /// callers, and hands it to a commit round. Its `append` callers are resumed once it is durable.
    private func write(_ batch: [PendingAppend], bytes: Int) async -> Result<Void, StorageError> {
        guard var active = self.segments.last, active.file != nil else {
            return .failure(StorageError(.io, "topic '\(self.name)' has no active segment"))
        }
        if active.writtenEnd > UInt64(SegmentFormat.headerSize),
           active.writtenEnd + UInt64(bytes) > self.environment.options.segmentSize {
            await self.waitForInFlight(atMost: 0)
            if let failure { return .failure(failure) }
            await self.trimPreallocation(active)
            do throws(StorageError) {
                active = try await self.createSegment(firstPosition: self.writePosition)
            } catch {
                return .failure(error)
            }
        }
        guard let file = active.file else { return .failure(StorageError(.io, "segment \(active.path) is closed")) }
        let first = self.writePosition
        var buffer: [UInt8] = []
        buffer.reserveCapacity(bytes)
        var offsets: [Int] = []
        offsets.reserveCapacity(batch.count)
        var batchIndex: UInt32 = 0
        for request in batch {
            for payload in request.payloads {
                offsets.append(buffer.count)
                EntryFormat.append(position: first + UInt64(batchIndex), batchIndex: batchIndex, payload: payload,
                                   to: &buffer)
                batchIndex += 1
            }
        }
        let start = active.writtenEnd
        // Zeros being written ahead must not land on this batch: wait if it reaches them.
        while self.preallocating, start + UInt64(buffer.count) > active.allocatedEnd {
            await self.waitForPreallocation()
        }
        do throws(IOError) {
            try await file.write(buffer, at: start)
        } catch {
            // ENOSPC (or another error) part-way: cut the partial write; positions are not consumed, and a
            // retry overwrites this offset even if the truncate failed.
            try? await file.truncate(to: start)
            active.allocatedEnd = min(active.allocatedEnd, start)
            let storageError = StorageError(error, "appending to topic '\(self.name)'")
            self.logger.warning("append failed", metadata: ["topic": "\(self.name)", "error": "\(storageError)"])
            return .failure(storageError)
        }
        active.writtenEnd = start + UInt64(buffer.count)
        self.writePosition = first + UInt64(offsets.count)
        // Written, not yet synced: `appendWritten` callers get their positions now.
        var durableWaiters: [(CheckedContinuation<Result<[Position], StorageError>, Never>, [Position])] = []
        for (request, positions) in zip(batch, Self.positions(of: batch, first: first)) {
            if request.early {
                request.waiter.resume(returning: .success(positions))
            } else {
                durableWaiters.append((request.waiter, positions))
            }
        }
        self.preallocateIfNeeded(active, writeEnd: active.writtenEnd)
        self.inFlight.append(InFlightBatch(segment: active, first: first, start: start, buffer: buffer,
                                           offsets: offsets, waiters: durableWaiters))
        Task { await self.commitBatch(first: first, file: file) }
        return .success(())
    }

    /// Creates a segment starting at `firstPosition`: header written and synced, directory synced.
    @discardableResult
    func createSegment(firstPosition: UInt64) async throws(StorageError) -> Segment {
        let path = self.directory + "/" + SegmentFormat.fileName(firstPosition: firstPosition)
        let createdAt = self.environment.options.clock()
        let fileSystem = self.environment.fileSystem
        do throws(IOError) {
            let file = try await fileSystem.open(path: path, create: true)
            do throws(IOError) {
                try await file.truncate(to: 0)
                try await file.write(SegmentFormat.header(firstPosition: firstPosition, createdAt: createdAt), at: 0)
                try await file.sync()
                try await fileSystem.syncDirectory(path: self.directory)
            } catch {
                await file.close()
                try? fileSystem.remove(path: path)
                throw error
            }
            let scan = SegmentScan(index: SparseIndex(interval: self.environment.options.indexInterval),
                                   validEnd: SegmentFormat.headerSize, nextPosition: firstPosition, entryCount: 0)
            let segment = Segment(firstPosition: firstPosition, createdAt: createdAt, path: path, file: file,
                                  size: UInt64(SegmentFormat.headerSize), endPosition: firstPosition, scan: scan)
            self.segments.append(segment)
            return segment
        } catch {
            throw StorageError(error, "creating segment \(path)")
        }
    }

    /// Creates the first segment of a new topic.
    func createFirstSegment() async throws(StorageError) {
        if self.segments.isEmpty { try await self.createSegment(firstPosition: 0) }
    }

    /// Stops accepting work, lets the batch in flight finish, and closes the files.
    func close() async {
        if self.failure == nil { self.failure = StorageError(.closed, "topic '\(self.name)' is closed") }
        if self.writing {
            await withCheckedContinuation { self.drainWaiters.append($0) }
        }
        await self.waitForInFlight(atMost: 0)
        // A clean shutdown leaves no zero tail behind.
        if let active = self.segments.last { await self.trimPreallocation(active) }
        for segment in self.segments {
            await segment.file?.close()
            segment.file = nil
        }
        // Deferred acknowledgements are written before the cursor log closes.
        for cursor in self.cursors.values { await cursor.close() }
        await self.cursorLog.close()
    }
}
