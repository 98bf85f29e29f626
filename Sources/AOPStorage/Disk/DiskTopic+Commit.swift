import AOPIO
import Logging

/// A batch written to the active segment (page cache) and waiting for its commit round.
struct InFlightBatch {
    let segment: Segment
    let first: UInt64
    /// Offset of the batch in the segment file.
    let start: UInt64
    let buffer: [UInt8]
    /// Offset of each entry in `buffer`.
    let offsets: [Int]
    /// `append` callers (not `appendWritten` ones), resumed once the batch is durable.
    let waiters: [(CheckedContinuation<Result<[Position], StorageError>, Never>, [Position])]
    /// Set when its commit round has ended.
    var result: Result<Void, StorageError>?
}

extension DiskTopic {
    /// Waits for the batch's commit round, then completes every batch at the head of the queue whose round
    /// has ended: batches become durable and readable in order even when rounds end out of order.
    func commitBatch(first: UInt64, file: any AsyncFile) async {
        let result: Result<Void, StorageError>
        do throws(StorageError) {
            try await self.environment.scheduler.commit(file)
            result = .success(())
        } catch {
            result = .failure(error)
        }
        guard let index = self.inFlight.firstIndex(where: { $0.first == first }) else { return }
        self.inFlight[index].result = result
        while let head = self.inFlight.first, let outcome = head.result {
            self.inFlight.removeFirst()
            self.complete(head, outcome)
        }
        self.resumeDurableWaiters()
        let count = self.inFlight.count
        var keep: [(atMost: Int, waiter: CheckedContinuation<Void, Never>)] = []
        for w in self.inFlightWaiters {
            if count <= w.atMost { w.waiter.resume() } else { keep.append(w) }
        }
        self.inFlightWaiters = keep
    }

    private func complete(_ batch: InFlightBatch, _ outcome: Result<Void, StorageError>) {
        if case .failure(let error) = outcome, self.commitFailure == nil {
            // After a failed fdatasync the page cache may have dropped the data: stop accepting appends.
            self.commitFailure = error
            self.failure = error
            self.logger.error("fdatasync failed; topic is now read-only",
                              metadata: ["topic": "\(self.name)", "error": "\(error)"])
        }
        if let failure = self.commitFailure {
            for (waiter, _) in batch.waiters { waiter.resume(returning: .failure(failure)) }
            return
        }
        let segment = batch.segment
        for (i, offset) in batch.offsets.enumerated() {
            segment.scan?.index.add(position: batch.first + UInt64(i), offset: batch.start + UInt64(offset))
        }
        self.environment.counters.update {
            $0.entriesAppended += batch.offsets.count
            $0.appendWrites += 1
        }
        self.tailCache.append(batch.buffer, segment: segment.firstPosition, at: Int(batch.start))
        segment.size = batch.start + UInt64(batch.buffer.count)
        segment.scan?.validEnd = Int(segment.size)
        segment.scan?.entryCount += batch.offsets.count
        self.nextPosition = batch.first + UInt64(batch.offsets.count)
        segment.endPosition = self.nextPosition
        segment.scan?.nextPosition = self.nextPosition
        for (waiter, positions) in batch.waiters { waiter.resume(returning: .success(positions)) }
    }

    /// Returns once no more than `atMost` batches are in flight.
    func waitForInFlight(atMost: Int) async {
        guard self.inFlight.count > atMost else { return }
        await withCheckedContinuation { self.inFlightWaiters.append((atMost, $0)) }
    }
}
