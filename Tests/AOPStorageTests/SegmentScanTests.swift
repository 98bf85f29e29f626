@testable import AOPStorage
import Testing

@Suite struct SegmentScanTests {
    /// A segment with `count` entries starting at `first`, written in batches of `batch`.
    static func segment(first: UInt64, count: Int, batch: Int) -> (bytes: [UInt8], offsets: [Int]) {
        var bytes = SegmentFormat.header(firstPosition: first, createdAt: 1)
        var offsets: [Int] = []
        for i in 0..<count {
            offsets.append(bytes.count)
            EntryFormat.append(position: first + UInt64(i), batchIndex: UInt32(i % batch),
                               payload: Array("entry-\(i)".utf8), to: &bytes)
        }
        return (bytes, offsets)
    }

    @Test func entryRoundTripsAndRejectsDamage() {
        var bytes: [UInt8] = []
        EntryFormat.append(position: 42, batchIndex: 2, payload: [1, 2, 3], to: &bytes)
        #expect(bytes.count == EntryFormat.headerSize + 3)
        let parsed = EntryFormat.parse(bytes, at: 0, maxLength: 100)
        #expect(parsed == .entry(.init(length: 3, position: 42, batchIndex: 2), payloadStart: EntryFormat.headerSize))
        #expect(EntryFormat.parse(Array(bytes.dropLast()), at: 0, maxLength: 100) == .incomplete(needed: 23))
        for i in bytes.indices where i != 0 {  // every byte but the length is covered by the checksum
            var damaged = bytes
            damaged[i] ^= 1
            #expect(EntryFormat.parse(damaged, at: 0, maxLength: 100) == .bad, "byte \(i)")
        }
        #expect(EntryFormat.parse(bytes, at: 0, maxLength: 2) == .bad)
    }

    @Test func cleanSegmentIsIndexedSparsely() {
        let (bytes, offsets) = Self.segment(first: 100, count: 1000, batch: 10)
        let scan = SegmentScan.scan(bytes, firstPosition: 100, endPosition: nil, indexInterval: 64, maxEntrySize: 1000)
        #expect(scan.entryCount == 1000)
        #expect(scan.nextPosition == 1100)
        #expect(scan.validEnd == bytes.count)
        #expect(scan.tornBytes == 0)
        #expect(scan.index.count == 16)  // 1000 / 64 rounded up
        #expect(scan.index.floor(100 + 130)! == (position: 100 + 128, offset: UInt64(offsets[128])))
        #expect(scan.index.floor(99) == nil)
    }

    @Test func tornTailOfLastBatchIsCut() {
        let (bytes, offsets) = Self.segment(first: 0, count: 30, batch: 10)
        // Tear the middle of entry 25 (in the last batch, 20..<30): later entries of that batch survive.
        var torn = bytes
        torn[offsets[25] + EntryFormat.headerSize + 1] ^= 0xFF
        let scan = SegmentScan.scan(torn, firstPosition: 0, endPosition: nil, indexInterval: 4, maxEntrySize: 1000)
        #expect(scan.nextPosition == 25)
        #expect(scan.validEnd == offsets[25])
        #expect(scan.tornBytes == bytes.count - offsets[25])
        #expect(scan.corruptPositions == 0)
        // A half-written final entry.
        let cut = Array(bytes[0..<(bytes.count - 3)])
        let cutScan = SegmentScan.scan(cut, firstPosition: 0, endPosition: nil, indexInterval: 4, maxEntrySize: 1000)
        #expect(cutScan.nextPosition == 29)
        #expect(cutScan.tornBytes == bytes.count - 3 - offsets[29])
    }

    @Test func damageFollowedByTwoLaterBatchesIsCorruptionNotTear() {
        let (bytes, offsets) = Self.segment(first: 0, count: 40, batch: 10)
        var damaged = bytes
        damaged[offsets[12] + EntryFormat.headerSize] ^= 0xFF  // entry 12, batch 10..<20; batches 20, 30 follow
        let scan = SegmentScan.scan(damaged, firstPosition: 0, endPosition: nil, indexInterval: 4, maxEntrySize: 1000)
        #expect(scan.nextPosition == 40)
        #expect(scan.tornBytes == 0)
        #expect(scan.corruptPositions == 1)
        #expect(scan.entryCount == 39)
        #expect(scan.skips == [offsets[12]: offsets[13]])
    }

    @Test func damageFollowedByOneLaterBatchIsATornTail() {
        // A topic keeps up to two batches unsynced (SegmentScan.maximumUnsyncedBatches): batch 10..<20 may
        // have been torn while batch 20..<30, written after it but before either was synced, reached the disk.
        let (bytes, offsets) = Self.segment(first: 0, count: 30, batch: 10)
        var damaged = bytes
        damaged[offsets[12] + EntryFormat.headerSize] ^= 0xFF
        let scan = SegmentScan.scan(damaged, firstPosition: 0, endPosition: nil, indexInterval: 4, maxEntrySize: 1000)
        #expect(scan.nextPosition == 12)
        #expect(scan.validEnd == offsets[12])
        #expect(scan.tornBytes == bytes.count - offsets[12])
        #expect(scan.corruptPositions == 0)
        // The whole first batch after the damage lost, the next one intact: still a tear.
        var lost = bytes
        for i in offsets[10]..<offsets[20] { lost[i] = 0x33 }
        let lostScan = SegmentScan.scan(lost, firstPosition: 0, endPosition: nil, indexInterval: 4, maxEntrySize: 1000)
        #expect(lostScan.nextPosition == 10)
        #expect(lostScan.corruptPositions == 0)
    }

    @Test func sealedSegmentSkipsDamageAndCountsLostTail() {
        let (bytes, offsets) = Self.segment(first: 0, count: 20, batch: 20)
        var damaged = bytes
        damaged[offsets[5] + 2] ^= 0xFF  // length field of entry 5: framing lost, resynchronised
        let scan = SegmentScan.scan(damaged, firstPosition: 0, endPosition: 20, indexInterval: 4, maxEntrySize: 1000)
        #expect(scan.corruptPositions == 1)
        #expect(scan.entryCount == 19)
        #expect(scan.skips[offsets[5]] == offsets[6])
        let short = Array(bytes[0..<offsets[18]])
        let shortScan = SegmentScan.scan(short, firstPosition: 0, endPosition: 20, indexInterval: 4, maxEntrySize: 1000)
        #expect(shortScan.corruptPositions == 2)
        #expect(shortScan.nextPosition == 20)
    }

    @Test func sparseIndexOfAMillionEntriesHoldsEntriesOverInterval() {
        var index = SparseIndex(interval: 64)
        for p in UInt64(0)..<1_000_000 { index.add(position: p, offset: p * 30) }
        #expect(index.count == (1_000_000 + 63) / 64)
        #expect(index.floor(999_999)! == (position: 999_936, offset: 999_936 * 30))
    }

    @Test func topicDirectoryNamesAreEscapedInjectively() {
        #expect(TopicDirectoryName.escape("queue-1_a") == "queue-1_a")
        #expect(TopicDirectoryName.escape("a/b.c") == "a%2Fb%2Ec")
        #expect(TopicDirectoryName.escape("..") == "%2E%2E")
        #expect(TopicDirectoryName.escape("%") == "%25")
        #expect(TopicDirectoryName.escape("") == "%")
        #expect(TopicDirectoryName.escape("é") == "%C3%A9")
    }
}
