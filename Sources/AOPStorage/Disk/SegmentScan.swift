/// The result of checking a whole segment file: where its valid entries are, which are damaged, and
/// (for the last segment) where a torn tail starts. Pure: works on the file's bytes.
struct SegmentScan: Equatable {
    /// Sparse index of the valid entries.
    var index: SparseIndex
    /// Offset just past the last valid entry (the torn tail starts here for the last segment).
    var validEnd: Int
    /// The position after the last valid entry (firstPosition when there is none).
    var nextPosition: UInt64
    /// Number of valid entries.
    var entryCount: Int
    /// Damaged regions skipped: offset of the bad bytes → offset of the next valid entry.
    var skips: [Int: Int] = [:]
    /// Positions lost to corruption (not counting a torn tail).
    var corruptPositions: Int = 0
    /// Bytes from `validEnd` to the end of the file, when they were judged a torn tail.
    var tornBytes: Int = 0
    /// Bytes from `validEnd` to the end of the file, when they are all zero: blocks the topic preallocated
    /// ahead of its writes (see `DiskStorageOptions.preallocationBytes`), not a torn tail. Last segment only.
    var zeroTailBytes: Int = 0

    /// Batches a topic may have written and not yet synced at any time (`DiskTopic`'s pipelining depth
    /// is at most this). Recovery's torn-tail rule depends on it.
    static let maximumUnsyncedBatches = 2

    /// Distinct batches (counted up to `maximumUnsyncedBatches`) starting above `expected` among the valid
    /// entries from `found` on.
    static func laterBatches(_ bytes: [UInt8], from found: (offset: Int, header: EntryFormat.Header),
                             after expected: UInt64, limit: UInt64, maxEntrySize: Int) -> Int {
        var count = 0
        var last = expected
        var candidate: (offset: Int, header: EntryFormat.Header)? = found
        if found.header.batchStart > expected {
            count = 1
            last = found.header.batchStart
        }
        while count < maximumUnsyncedBatches, let from = candidate {
            let threshold = last
            candidate = EntryFormat.resynchronize(bytes, after: from.offset, positions: expected..<limit,
                                                  maxLength: maxEntrySize, where: { $0.batchStart > threshold })
            if let next = candidate {
                count += 1
                last = next.header.batchStart
            }
        }
        return count
    }

    /// Scans `bytes` (a whole segment file, header included).
    /// - Parameters:
    ///   - endPosition: the first position of the next segment for a sealed segment; nil for the last
    ///     one, whose tail may be torn.
    static func scan(_ bytes: [UInt8], firstPosition: UInt64, endPosition: UInt64?, indexInterval: Int,
                     maxEntrySize: Int) -> SegmentScan {
        var result = SegmentScan(index: SparseIndex(interval: indexInterval), validEnd: SegmentFormat.headerSize,
                                 nextPosition: firstPosition, entryCount: 0)
        var offset = SegmentFormat.headerSize
        let positionLimit = endPosition ?? UInt64.max
        while offset < bytes.count, result.nextPosition < positionLimit {
            let expected = result.nextPosition
            if case .entry(let header, _) = EntryFormat.parse(bytes, at: offset, maxLength: maxEntrySize),
               header.position >= expected, header.position < positionLimit {
                result.corruptPositions += Int(header.position - expected)
                result.index.add(position: header.position, offset: UInt64(offset))
                offset += EntryFormat.headerSize + Int(header.length)
                result.validEnd = offset
                result.nextPosition = header.position + 1
                result.entryCount += 1
                continue
            }
            // Only zeros from here to the end of the last segment: preallocated blocks that no batch has
            // reached, or a batch none of whose blocks were written. Either way the data ends here.
            if endPosition == nil, Self.isZero(bytes[offset...]) {
                result.zeroTailBytes = bytes.count - offset
                return result
            }
            // Damage at `offset`. Look for a later valid entry.
            let found = EntryFormat.resynchronize(bytes, after: offset, positions: expected..<positionLimit,
                                                  maxLength: maxEntrySize)
            // In the last segment, the damage is a torn write unless `maximumUnsyncedBatches` later batches
            // follow it: a topic writes batch n + k only after batch n was synced (k = the batches it may
            // have in flight), so damage followed by that many later batches is in data that was durable.
            if let found, endPosition != nil
                || Self.laterBatches(bytes, from: found, after: expected, limit: positionLimit,
                                     maxEntrySize: maxEntrySize) >= Self.maximumUnsyncedBatches
            {
                // Sealed segment, or a later batch was written after this one: this batch had been
                // synced, so this is corruption of durable data, not a torn write.
                result.skips[offset] = found.offset
                offset = found.offset
                continue
            }
            if endPosition != nil {
                // Sealed segment with nothing valid after the damage: the rest is lost.
                result.corruptPositions += Int(positionLimit - expected)
                result.nextPosition = positionLimit
                result.skips[offset] = bytes.count
                return result
            }
            break
        }
        if endPosition == nil {
            result.tornBytes = bytes.count - result.validEnd
        } else if result.nextPosition < positionLimit {
            // The file ends before the positions the next segment implies.
            result.corruptPositions += Int(positionLimit - result.nextPosition)
            result.nextPosition = positionLimit
        }
        return result
    }

    /// Whether every byte is zero.
    static func isZero(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBytes { raw in
            var words = 0
            let count = raw.count
            // Eight bytes at a time, then the rest.
            while words + 8 <= count {
                if raw.loadUnaligned(fromByteOffset: words, as: UInt64.self) != 0 { return false }
                words += 8
            }
            for i in words..<count where raw[i] != 0 { return false }
            return true
        }
    }
}
