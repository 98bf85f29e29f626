import AOPIO
@testable import AOPStorage
import Testing

/// Segments zero-filled ahead of the write position (`DiskStorageOptions.preallocationBytes`): recovery
/// reads a zero tail as the end of the data, never as a torn write or as corruption.
@Suite struct PreallocationTests {
    @Test func zeroHeaderIsNeverAnEntry() {
        // CRC32C of zeros is not zero, so a zeroed header fails its checksum even at position 0.
        let zeros = [UInt8](repeating: 0, count: 64)
        #expect(EntryFormat.parse(zeros, at: 0, maxLength: 1000) == .bad)
    }

    @Test func zeroTailEndsTheDataWithoutTruncation() {
        let (bytes, _) = SegmentScanTests.segment(first: 0, count: 30, batch: 10)
        let padded = bytes + [UInt8](repeating: 0, count: 5000)
        let scan = SegmentScan.scan(padded, firstPosition: 0, endPosition: nil, indexInterval: 4, maxEntrySize: 1000)
        #expect(scan.nextPosition == 30)
        #expect(scan.validEnd == bytes.count)
        #expect(scan.tornBytes == 0)
        #expect(scan.zeroTailBytes == 5000)
        #expect(scan.corruptPositions == 0)
        // An empty segment (header only) followed by zeros.
        let empty = SegmentFormat.header(firstPosition: 0, createdAt: 1) + [UInt8](repeating: 0, count: 100)
        let emptyScan = SegmentScan.scan(empty, firstPosition: 0, endPosition: nil, indexInterval: 4, maxEntrySize: 1000)
        #expect(emptyScan.nextPosition == 0)
        #expect(emptyScan.zeroTailBytes == 100)
    }

    @Test func tornBatchInsideTheZeroedRegionIsCut() {
        let (bytes, offsets) = SegmentScanTests.segment(first: 0, count: 30, batch: 10)
        var torn = bytes + [UInt8](repeating: 0, count: 600)
        // The last batch (20..<30) was partly written: its first block reached the disk, later ones did not.
        for i in (offsets[23])..<bytes.count { torn[i] = 0 }
        let scan = SegmentScan.scan(torn, firstPosition: 0, endPosition: nil, indexInterval: 4, maxEntrySize: 1000)
        // Entries 20...22 are whole and valid; the rest of the batch is zeros: the data ends at entry 23.
        #expect(scan.nextPosition == 23)
        #expect(scan.validEnd == offsets[23])
        #expect(scan.tornBytes == 0)
        // Garbage (a torn block) before the zeros is a torn tail and is cut.
        var garbage = torn
        garbage[offsets[23] + 3] = 0x5A
        let cut = SegmentScan.scan(garbage, firstPosition: 0, endPosition: nil, indexInterval: 4, maxEntrySize: 1000)
        #expect(cut.nextPosition == 23)
        #expect(cut.tornBytes == garbage.count - offsets[23])
        #expect(cut.zeroTailBytes == 0)
    }

    @Test func sealedSegmentIgnoresItsZeroTail() {
        let (bytes, _) = SegmentScanTests.segment(first: 0, count: 30, batch: 10)
        let padded = bytes + [UInt8](repeating: 0, count: 500)
        let scan = SegmentScan.scan(padded, firstPosition: 0, endPosition: 30, indexInterval: 4, maxEntrySize: 1000)
        #expect(scan.nextPosition == 30)
        #expect(scan.corruptPositions == 0)
    }

    /// Waits (bounded) until the file at `path` is longer than `bytes`.
    private func waitForGrowth(_ fs: SimulatedFileSystem, _ path: String, beyond bytes: Int) async throws {
        for _ in 0..<400 where (fs.contents(of: path)?.count ?? 0) <= bytes {
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func topicPreallocatesRecoversAndCutsItsZeros() async throws {
        let fs = SimulatedFileSystem()
        let configure: (inout DiskStorageOptions) -> Void = { $0.preallocationBytes = 1 << 20; $0.indexInterval = 4 }
        var engine = try await openEngine(fs, configure)
        var topic = try await engine.persistentTopic(named: "t")
        for i in 0..<20 { _ = try await topic.append([payload("before-\(i)")]) }
        let path = try segmentPaths(fs, topic: "t")[0]
        let dataEnd = await topic.segmentSizes().last!
        try await self.waitForGrowth(fs, path, beyond: Int(dataEnd))
        let file = fs.contents(of: path)!
        #expect(file.count > Int(dataEnd) + (32 << 10), "zeros are written ahead")
        #expect(SegmentScan.isZero(file[Int(dataEnd)...]))
        // Power cut: what was synced survives (the zeros were synced on their own).
        fs.crash(seed: 7)
        engine = try await openEngine(fs, configure)
        topic = try await engine.persistentTopic(named: "t")
        #expect(engine.statistics().truncatedBytes == 0)
        #expect(engine.statistics().corruptEntries == 0)
        #expect(await topic.endPosition() == Position(20))
        // Appends continue at the end of the data, inside the zeroed blocks.
        for i in 0..<5 { _ = try await topic.append([payload("after-\(i)")]) }
        let all = try await topic.read(from: .zero, limit: 100).map(\.payload)
        #expect(all == (0..<20).map { payload("before-\($0)") } + (0..<5).map { payload("after-\($0)") })
        // A clean shutdown cuts the zeros.
        let end = await topic.segmentSizes().last!
        await engine.shutdown()
        #expect(fs.contents(of: path)!.count == Int(end))
    }

    @Test func sealedSegmentsAreCutToTheirData() async throws {
        let fs = SimulatedFileSystem()
        let engine = try await openEngine(fs) { $0.segmentSize = 4096; $0.preallocationBytes = 1 << 20 }
        let topic = try await engine.persistentTopic(named: "s")
        for i in 0..<200 {
            _ = try await topic.append([payload("entry-\(i)-" + String(repeating: "x", count: 40))])
        }
        #expect(await topic.segmentCount > 2)
        let sizes = await topic.segmentSizes()
        let paths = try segmentPaths(fs, topic: "s")
        for (path, size) in zip(paths, sizes).dropLast() {
            #expect(fs.contents(of: path)!.count == Int(size), "\(path)")
            #expect(size <= 4096)
        }
        #expect(try await topic.read(from: .zero, limit: 300).map(\.payload)
                == (0..<200).map { payload("entry-\($0)-" + String(repeating: "x", count: 40)) })
        await engine.shutdown()
    }
}
