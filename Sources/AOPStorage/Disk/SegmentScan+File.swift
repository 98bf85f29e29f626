import AOPIO

extension SegmentScan {
    /// Bytes read per call by `scan(file:…)`.
    static let fileChunkSize = 1 << 20

    /// Scans a segment file without holding it in memory: reads `chunkSize` bytes at a time while every
    /// entry is intact and in sequence (the normal case), so memory is bounded by the chunk, not by the
    /// segment size. At the first damaged, out-of-sequence or chunk-sized entry it falls back to reading
    /// the whole file and `scan(_:…)` (whose resynchronization needs the rest of the file), so results are
    /// identical to `scan(_:…)` over the whole file in every case.
    static func scan(file: any AsyncFile, size: Int, firstPosition: UInt64, endPosition: UInt64?,
                     indexInterval: Int, maxEntrySize: Int,
                     chunkSize: Int = SegmentScan.fileChunkSize) async throws(IOError) -> SegmentScan {
        var result = SegmentScan(index: SparseIndex(interval: indexInterval), validEnd: SegmentFormat.headerSize,
                                 nextPosition: firstPosition, entryCount: 0)
        let positionLimit = endPosition ?? UInt64.max
        var offset = SegmentFormat.headerSize
        while offset < size, result.nextPosition < positionLimit {
            let chunk = try await file.read(count: min(chunkSize, size - offset), at: UInt64(offset))
            guard !chunk.isEmpty else { break }
            var local = 0
            while local < chunk.count, result.nextPosition < positionLimit {
                let parsed = EntryFormat.parse(chunk, at: local, maxLength: maxEntrySize)
                if case .entry(let header, _) = parsed, header.position == result.nextPosition {
                    result.index.add(position: header.position, offset: UInt64(offset + local))
                    local += EntryFormat.headerSize + Int(header.length)
                    result.validEnd = offset + local
                    result.nextPosition = header.position + 1
                    result.entryCount += 1
                    continue
                }
                if case .incomplete = parsed, local > 0, offset + chunk.count < size {
                    break   // the entry continues in the next chunk
                }
                // Zeros from here to the end of the last segment: preallocated blocks (see `scan(_:…)`).
                if endPosition == nil, try await Self.isZero(file: file, from: offset + local, to: size,
                                                             chunk: chunk, chunkOffset: offset, chunkSize: chunkSize) {
                    result.zeroTailBytes = size - result.validEnd
                    return result
                }
                // Damage, a gap, a torn tail or an entry larger than a chunk: the whole-file path decides.
                let bytes = try await file.read(count: size, at: 0)
                return Self.scan(bytes, firstPosition: firstPosition, endPosition: endPosition,
                                 indexInterval: indexInterval, maxEntrySize: maxEntrySize)
            }
            offset += local
        }
        if endPosition == nil {
            result.tornBytes = size - result.validEnd
        } else if result.nextPosition < positionLimit {
            // The file ends before the positions the next segment implies: let the whole-file path count it.
            let bytes = try await file.read(count: size, at: 0)
            return Self.scan(bytes, firstPosition: firstPosition, endPosition: endPosition,
                             indexInterval: indexInterval, maxEntrySize: maxEntrySize)
        }
        return result
    }

    /// Whether the file holds only zeros in `start..<end`; `chunk` (read at `chunkOffset`) is used first.
    private static func isZero(file: any AsyncFile, from start: Int, to end: Int, chunk: [UInt8], chunkOffset: Int,
                               chunkSize: Int) async throws(IOError) -> Bool {
        let inChunk = min(end, chunkOffset + chunk.count)
        guard SegmentScan.isZero(chunk[(start - chunkOffset)..<(inChunk - chunkOffset)]) else { return false }
        var offset = inChunk
        while offset < end {
            let bytes = try await file.read(count: min(chunkSize, end - offset), at: UInt64(offset))
            guard !bytes.isEmpty else { return true }
            guard SegmentScan.isZero(bytes[...]) else { return false }
            offset += bytes.count
        }
        return true
    }
}
