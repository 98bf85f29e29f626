import AOPIO
import Logging

extension DiskTopic {
    /// Zeroed bytes kept ahead of the active segment's write position: as much as the segment already
    /// holds, at least 64 KiB, at most `DiskStorageOptions.preallocationBytes`, never past `segmentSize`.
    /// (A busy topic reaches the maximum quickly; a quiet queue index does not take megabytes of disk.)
    func preallocationTarget(for segment: Segment, writeEnd: UInt64) -> UInt64 {
        let options = self.environment.options
        guard options.preallocationBytes > 0 else { return segment.allocatedEnd }
        let filled = writeEnd - UInt64(SegmentFormat.headerSize)
        let ahead = min(UInt64(options.preallocationBytes), max(64 << 10, filled))
        return min(writeEnd + ahead, max(options.segmentSize, writeEnd))
    }

    /// Starts zero-filling the active segment ahead of `writeEnd` when less than half the target is left.
    /// The zeros are written past every byte a batch has been given (a batch that would reach them waits,
    /// `waitForPreallocation`), then synced on their own, outside the commit rounds, so a later round's
    /// fdatasync overwrites allocated blocks without a size change to journal.
    func preallocateIfNeeded(_ segment: Segment, writeEnd: UInt64) {
        guard !self.preallocating, self.failure == nil, let file = segment.file else { return }
        let target = self.preallocationTarget(for: segment, writeEnd: writeEnd)
        let start = max(segment.allocatedEnd, writeEnd)
        guard target > start, target - start >= (target - writeEnd) / 2 else { return }
        self.preallocating = true
        let count = Int(target - start)
        Task { await self.preallocate(segment, file: file, from: start, count: count) }
    }

    private func preallocate(_ segment: Segment, file: any AsyncFile, from start: UInt64, count: Int) async {
        do throws(IOError) {
            try await file.write([UInt8](repeating: 0, count: count), at: start)
            try await file.sync()
            self.environment.counters.update { $0.preallocatedBytes += count }
            if segment.file === file, segment.allocatedEnd <= start {
                segment.allocatedEnd = start + UInt64(count)
            }
        } catch {
            // Not fatal: appends simply extend the file. (ENOSPC here leaves zeros or nothing past the data,
            // which recovery reads as the end of the data.)
            self.logger.debug("preallocation failed", metadata: ["segment": "\(segment.path)", "error": "\(error)"])
        }
        self.preallocating = false
        let waiters = self.preallocationWaiters
        self.preallocationWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// Waits for the zero-fill in flight, if any (a batch must never be written where zeros may still land).
    func waitForPreallocation() async {
        guard self.preallocating else { return }
        await withCheckedContinuation { self.preallocationWaiters.append($0) }
    }

    /// Cuts a segment's preallocated zeros (when it is sealed or the topic closes). Not synced: a zero tail
    /// that survives a crash is read as the end of the data.
    func trimPreallocation(_ segment: Segment) async {
        await self.waitForPreallocation()
        guard segment.allocatedEnd > segment.size, let file = segment.file else { return }
        do throws(IOError) {
            try await file.truncate(to: segment.size)
            segment.allocatedEnd = segment.size
        } catch {
            self.logger.debug("cutting preallocated blocks failed", metadata: ["segment": "\(segment.path)"])
        }
    }
}

extension DiskTopic {
    /// Bytes of data (header included) in each segment file, oldest first; the files may hold preallocated
    /// zeros beyond.
    public func segmentSizes() -> [UInt64] {
        self.segments.map(\.size)
    }
}
