/// Offsets of one entry in every `interval` entries of a segment, so memory stays proportional to
/// entries / interval. A lookup returns the nearest indexed entry at or below a position; readers scan
/// forward from there.
struct SparseIndex: Sendable, Equatable {
    let interval: UInt64
    private(set) var positions: [UInt64] = []
    private(set) var offsets: [UInt64] = []

    init(interval: Int) {
        self.interval = UInt64(max(1, interval))
    }

    /// Number of index entries held.
    var count: Int { self.positions.count }

    /// Records an entry; only every `interval`-th entry (by position) is kept.
    mutating func add(position: UInt64, offset: UInt64) {
        if let last = self.positions.last, position < last + self.interval { return }
        self.positions.append(position)
        self.offsets.append(offset)
    }

    /// The indexed (position, offset) at or below `position`, or nil when `position` precedes them all.
    func floor(_ position: UInt64) -> (position: UInt64, offset: UInt64)? {
        var low = 0
        var high = self.positions.count
        while low < high {
            let mid = (low + high) / 2
            if self.positions[mid] <= position { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return nil }
        return (self.positions[low - 1], self.offsets[low - 1])
    }
}
