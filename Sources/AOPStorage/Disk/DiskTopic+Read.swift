import Logging
import AOPIO

extension DiskTopic {
    /// Bytes read per I/O when scanning forward from an index point.
    /// 256 KiB: a backlog drain reads ~250 1 KiB messages per I/O (each read is a hop to the storage ring).
    static var readChunk: Int { 256 << 10 }

    /// Reads in position order. Damaged entries are skipped (omitted), counted in
    /// `DiskStorageStatistics.corruptEntries` and logged; a damaged entry is never returned. Damage found at
    /// recovery or at the first read of a sealed segment is known from its scan; damage that appears later
    /// makes the read check the segment again. `.corrupt` is thrown only when a segment cannot be checked.
    public func read(from: Position, limit: Int) async throws(StorageError) -> [TopicEntry] {
        if let failure, failure.code == .closed { throw failure }
        var result: [TopicEntry] = []
        var position = max(from.raw, self.startPosition.raw)
        while result.count < limit, position < self.nextPosition {
            guard let segment = self.segment(containing: position) else { break }
            let end = min(segment.endPosition, self.nextPosition)
            let entries = try await self.read(segment, from: position, until: end, limit: limit - result.count)
            result += entries
            if result.count >= limit { break }
            position = end
        }
        return result
    }

    /// Entries at the given positions, in the order asked; trimmed or damaged positions are omitted.
    public func read(positions: [Position]) async throws(StorageError) -> [TopicEntry] {
        if let failure, failure.code == .closed { throw failure }
        let wanted = Set(positions.map(\.raw)).filter { $0 >= self.startPosition.raw && $0 < self.nextPosition }.sorted()
        var found: [UInt64: [UInt8]] = [:]
        var i = 0
        while i < wanted.count {
            guard let segment = self.segment(containing: wanted[i]) else { i += 1; continue }
            // Positions close together in one segment are read with one forward scan.
            var j = i + 1
            while j < wanted.count, wanted[j] < segment.endPosition, wanted[j] - wanted[i] < 256 { j += 1 }
            let end = min(wanted[j - 1] + 1, self.nextPosition)
            let entries = try await self.read(segment, from: wanted[i], until: end, limit: Int(end - wanted[i]))
            let cluster = Set(wanted[i..<j])
            for entry in entries where cluster.contains(entry.position.raw) { found[entry.position.raw] = entry.payload }
            i = j
        }
        return positions.compactMap { position in found[position.raw].map { TopicEntry(position: position, payload: $0) } }
    }

    func segment(containing position: UInt64) -> Segment? {
        var low = 0
        var high = self.segments.count
        while low < high {
            let mid = (low + high) / 2
            if self.segments[mid].firstPosition <= position { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return nil }
        let segment = self.segments[low - 1]
        return position < segment.endPosition ? segment : nil
    }

    /// Builds the index of a sealed segment on first use (one sequential read of the file). With
    /// `rescan`, checks the segment again (damage appeared after the first scan); every entry below the
    /// topic's end is durable by then, so the rescan treats damage as corruption, never as a torn tail.
    func ensureScanned(_ segment: Segment, rescan: Bool = false) async throws(StorageError) -> SegmentScan {
        if let scan = segment.scan, !rescan { return scan }
        let previous = segment.scan
        let size = segment.size
        let file = try await self.file(of: segment)
        let options = self.environment.options
        let scan: SegmentScan
        do throws(IOError) {
            // Chunked: memory is bounded by the read chunk, not by the segment size.
            scan = try await SegmentScan.scan(file: file, size: Int(size), firstPosition: segment.firstPosition,
                                              endPosition: segment.endPosition, indexInterval: options.indexInterval,
                                              maxEntrySize: options.maxEntrySize)
        } catch {
            throw StorageError(error, "reading \(segment.path)")
        }
        if let scan = segment.scan, !rescan { return scan }
        guard segment.size == size, segment.scan == previous else {
            throw StorageError(.corrupt, "segment \(segment.path) changed while it was being checked")
        }
        let found = scan.corruptPositions - (previous?.corruptPositions ?? 0)
        if found > 0 {
            self.environment.counters.update { $0.corruptEntries += found }
            self.logger.error("corrupt entries in segment; they will be skipped",
                              metadata: ["segment": "\(segment.path)", "entries": "\(found)"])
        }
        segment.scan = scan
        return scan
    }

    func file(of segment: Segment) async throws(StorageError) -> any AsyncFile {
        if let file = segment.file { return file }
        do throws(IOError) {
            let file = try await self.environment.fileSystem.open(path: segment.path, create: false)
            if let raced = segment.file {
                await file.close()
                return raced
            }
            segment.file = file
            return file
        } catch {
            throw StorageError(error, "opening \(segment.path)")
        }
    }

    /// Up to `limit` entries of `segment` with positions in `from..<until`.
    private func read(_ segment: Segment, from: UInt64, until: UInt64, limit: Int) async throws(StorageError)
        -> [TopicEntry]
    {
        do throws(StorageError) {
            return try await self.readEntries(segment, from: from, until: until, limit: limit)
        } catch where error.code == .corrupt {
            // Damage the last scan did not see: check the segment again, then skip what is damaged.
            _ = try await self.ensureScanned(segment, rescan: true)
            return try await self.readEntries(segment, from: from, until: until, limit: limit)
        }
    }

    private func readEntries(_ segment: Segment, from: UInt64, until: UInt64, limit: Int)
        async throws(StorageError) -> [TopicEntry]
    {
        let scan = try await self.ensureScanned(segment)
        let file = try await self.file(of: segment)
        let maxEntrySize = self.environment.options.maxEntrySize
        let validEnd = segment.scan?.validEnd ?? scan.validEnd
        var offset = Int(scan.index.floor(from)?.offset ?? UInt64(SegmentFormat.headerSize))
        var buffer: [UInt8] = []
        var bufferStart = offset
        // The tail cache holds the bytes this process wrote (never read back from disk): no checksum.
        var bufferFromCache = false
        var result: [TopicEntry] = []
        while result.count < limit, offset < validEnd {
            switch EntryFormat.parse(buffer, at: offset - bufferStart, maxLength: maxEntrySize, verify: !bufferFromCache) {
            case .entry(let header, let payloadStart):
                if header.position >= until { return result }
                if header.position >= from {
                    let payload = Array(buffer[payloadStart..<(payloadStart + Int(header.length))])
                    result.append(TopicEntry(position: Position(header.position), payload: payload))
                }
                offset += EntryFormat.headerSize + Int(header.length)
            case .incomplete(let needed):
                let count = min(max(needed, Self.readChunk), validEnd - offset)
                guard count >= needed else { throw self.corrupt(segment, at: offset) }
                if let cached = self.tailCache.read(segment: segment.firstPosition, offset: offset, needed: needed,
                                                    count: count) {
                    self.environment.counters.update { $0.tailCacheHits += 1 }
                    buffer = cached
                    bufferStart = offset
                    bufferFromCache = true
                    continue
                }
                do throws(IOError) {
                    buffer = try await file.read(count: count, at: UInt64(offset))
                } catch {
                    if !self.segments.contains(where: { $0 === segment }) { return result }  // trimmed meanwhile
                    throw StorageError(error, "reading \(segment.path)")
                }
                bufferStart = offset
                bufferFromCache = false
                guard buffer.count >= needed else { throw self.corrupt(segment, at: offset) }
            case .bad:
                guard let resume = scan.skips[offset] else { throw self.corrupt(segment, at: offset) }
                offset = resume
                buffer = []
                bufferStart = offset
                bufferFromCache = false
            }
        }
        return result
    }

    private func corrupt(_ segment: Segment, at offset: Int) -> StorageError {
        self.logger.error("corrupt entry found on read", metadata: ["segment": "\(segment.path)", "offset": "\(offset)"])
        return StorageError(.corrupt, "corrupt entry in \(segment.path) at offset \(offset)")
    }
}
