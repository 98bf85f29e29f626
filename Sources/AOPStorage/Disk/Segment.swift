import AOPIO

/// One segment file of a disk topic, as the topic actor tracks it. Confined to its topic actor.
final class Segment {
    let firstPosition: UInt64
    let createdAt: UInt64
    let path: String
    var file: (any AsyncFile)?
    /// Bytes of valid data (header included); appends go here.
    var size: UInt64
    /// End of the bytes written, durable or not (`size` plus the batches in flight); the next batch goes here.
    var writtenEnd: UInt64
    /// End of the zeroed blocks written (and synced) ahead of `size` so that a commit round's fdatasync
    /// does not have to journal a size change; equal to `size` when nothing is preallocated. Active
    /// segment only (a sealed segment is cut back to `size`).
    var allocatedEnd: UInt64
    /// Position after the last entry (exclusive). For a sealed segment, the next segment's first position.
    var endPosition: UInt64
    /// Built at recovery for the last segment, lazily for sealed segments on first read.
    var scan: SegmentScan?

    init(firstPosition: UInt64, createdAt: UInt64, path: String, file: (any AsyncFile)?, size: UInt64,
         endPosition: UInt64, scan: SegmentScan?) {
        self.firstPosition = firstPosition
        self.createdAt = createdAt
        self.path = path
        self.file = file
        self.size = size
        self.allocatedEnd = size
        self.writtenEnd = size
        self.endPosition = endPosition
        self.scan = scan
    }
}
