extension AckRangeSet {
    /// Binary form used by cursor checkpoints: mark-delete (u64 LE), range count (u32 LE), then
    /// each range as lower (u64 LE) and upper (u64 LE, exclusive).
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(12 + 16 * self.ranges.count)
        bytes.appendLittleEndian(self.markDelete.raw)
        bytes.appendLittleEndian(UInt32(self.ranges.count))
        for range in self.ranges {
            bytes.appendLittleEndian(range.lowerBound)
            bytes.appendLittleEndian(range.upperBound)
        }
        return bytes
    }

    /// Decodes `encoded()` output; nil when the bytes are malformed.
    public init?(encoded bytes: [UInt8]) {
        guard bytes.count >= 12 else { return nil }
        let markDelete = bytes.loadLittleEndian(UInt64.self, at: 0)
        let count = Int(bytes.loadLittleEndian(UInt32.self, at: 8))
        guard bytes.count == 12 + 16 * count else { return nil }
        var ranges: [Range<UInt64>] = []
        ranges.reserveCapacity(count)
        for i in 0..<count {
            let lower = bytes.loadLittleEndian(UInt64.self, at: 12 + 16 * i)
            let upper = bytes.loadLittleEndian(UInt64.self, at: 20 + 16 * i)
            guard lower < upper else { return nil }
            ranges.append(lower..<upper)
        }
        self.init(markDelete: Position(markDelete), ranges: ranges)
    }
}
