import Logging
import AOPIO

extension DiskTopic {
    /// Deletes whole segments that lie entirely below `position` and below every cursor's durable
    /// mark-delete position, oldest first, as long as the retention policy allows. The active (last)
    /// segment is never deleted.
    public func trim(before position: Position) async throws(StorageError) {
        if let failure, failure.code == .closed { throw failure }
        var limit = position.raw
        for (_, bytes) in await self.cursorLog.values {
            if let acks = AckRangeSet(encoded: bytes) { limit = min(limit, acks.markDelete.raw) }
        }
        let now = self.environment.options.clock()
        let retention = self.environment.options.retention
        var retained = self.segments.reduce(UInt64(0)) { $0 + $1.size }
        var doomed: [Segment] = []
        for (i, segment) in self.segments.enumerated() where i < self.segments.count - 1 {
            guard segment.endPosition <= limit else { break }
            let sealedAt = self.segments[i + 1].createdAt
            let age = now > sealedAt ? now - sealedAt : 0
            guard retention.allowsDeletion(ageMilliseconds: age, retainedBytes: retained) else { break }
            doomed.append(segment)
            retained -= segment.size
        }
        guard !doomed.isEmpty else { return }
        self.segments.removeFirst(doomed.count)
        let fileSystem = self.environment.fileSystem
        do throws(IOError) {
            for segment in doomed {
                try fileSystem.remove(path: segment.path)
            }
            try await fileSystem.syncDirectory(path: self.directory)
        } catch {
            throw StorageError(error, "deleting segments of topic '\(self.name)'")
        }
        for segment in doomed {
            await segment.file?.close()
            segment.file = nil
        }
        self.logger.debug("trimmed segments", metadata: ["topic": "\(self.name)", "count": "\(doomed.count)"])
    }
}
