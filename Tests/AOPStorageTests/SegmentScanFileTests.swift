@testable import AOPStorage
import AOPIO
import Synchronization
import Testing

/// An in-memory file that records the largest single read.
private final class BytesFile: AsyncFile {
    let path = "mem"
    let bytes: [UInt8]
    let largest = Mutex(0)
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func size() async throws(IOError) -> UInt64 { UInt64(self.bytes.count) }
    func write(_ bytes: [UInt8], at offset: UInt64) async throws(IOError) {}
    func read(count: Int, at offset: UInt64) async throws(IOError) -> [UInt8] {
        self.largest.withLock { $0 = max($0, count) }
        let start = min(Int(offset), self.bytes.count)
        return Array(self.bytes[start..<min(start + count, self.bytes.count)])
    }
    func sync() async throws(IOError) {}
    func truncate(to size: UInt64) async throws(IOError) {}
    func close() async {}
}

/// `SegmentScan.scan(file:…)` reads in chunks and gives exactly what the whole-file scan gives.
@Suite struct SegmentScanFileTests {
    private func both(_ bytes: [UInt8], first: UInt64, end: UInt64?, chunk: Int) async throws -> (SegmentScan, SegmentScan, Int) {
        let file = BytesFile(bytes)
        let chunked = try await SegmentScan.scan(file: file, size: bytes.count, firstPosition: first, endPosition: end,
                                                 indexInterval: 8, maxEntrySize: 1000, chunkSize: chunk)
        let whole = SegmentScan.scan(bytes, firstPosition: first, endPosition: end, indexInterval: 8, maxEntrySize: 1000)
        return (chunked, whole, file.largest.withLock { $0 })
    }

    @Test(arguments: [40, 64, 97, 1000, 1 << 20])
    func cleanSegmentsAreScannedInChunks(chunk: Int) async throws {
        let (bytes, _) = SegmentScanTests.segment(first: 7, count: 300, batch: 10)
        for end: UInt64? in [nil, 307] {
            let (chunked, whole, largest) = try await self.both(bytes, first: 7, end: end, chunk: chunk)
            #expect(chunked == whole)
            #expect(largest <= chunk, "a clean segment is never read whole")
        }
    }

    @Test(arguments: [40, 97, 1000])
    func damagedTornAndShortSegmentsMatchTheWholeFileScan(chunk: Int) async throws {
        let (bytes, offsets) = SegmentScanTests.segment(first: 0, count: 100, batch: 10)
        var corrupt = bytes
        corrupt[offsets[35] + EntryFormat.headerSize] ^= 0xFF     // middle: a later batch follows
        var torn = bytes
        torn[offsets[95] + EntryFormat.headerSize] ^= 0xFF        // last batch: torn tail
        let cut = Array(bytes[..<(offsets[60] + 5)])              // file ends inside an entry
        let zeros = [UInt8](repeating: 0, count: 300)
        let zeroTail = bytes + zeros                              // preallocated blocks after the data
        var tornZeros = zeroTail                                  // a batch half written into them
        for i in offsets[93]..<bytes.count where i % 7 == 0 { tornZeros[i] = 0 }
        let zeroLastBatch = Array(bytes[..<offsets[90]]) + [UInt8](repeating: 0, count: bytes.count - offsets[90]) + zeros
        for (name, data) in [("corrupt", corrupt), ("torn", torn), ("cut", cut), ("zeroTail", zeroTail),
                             ("tornZeros", tornZeros), ("zeroLastBatch", zeroLastBatch)] {
            for end: UInt64? in [nil, 100] {
                let (chunked, whole, _) = try await self.both(data, first: 0, end: end, chunk: chunk)
                #expect(chunked == whole, "\(name) end=\(String(describing: end))")
            }
        }
    }
}
