/// The acknowledgement state of a cursor (Pulsar's ManagedCursor): a mark-delete position below which
/// everything is acknowledged, plus individually acknowledged ranges above it.
///
/// The ranges are half-open, sorted, disjoint and never adjacent (adjacent ranges are merged), and every
/// range starts strictly above `markDelete` (a range touching it is folded into the mark-delete position).
/// Memory is therefore proportional to the number of gaps, not to the number of acknowledged positions.
public struct AckRangeSet: Sendable, Hashable {
    /// Every position strictly below this is acknowledged.
    public private(set) var markDelete: Position
    /// Individually acknowledged positions above `markDelete`, as sorted disjoint non-adjacent ranges
    /// of raw positions. Each `lowerBound` is strictly greater than `markDelete.raw`.
    public private(set) var ranges: [Range<UInt64>]

    public init(markDelete: Position = .zero) {
        self.markDelete = markDelete
        self.ranges = []
    }

    /// Rebuilds a set from stored parts, normalising them (sorting, merging, folding into mark-delete).
    public init(markDelete: Position, ranges: [Range<UInt64>]) {
        self.markDelete = markDelete
        self.ranges = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            self.insert(range)
        }
    }

    /// Number of individually acknowledged ranges (the gaps above mark-delete are one fewer or equal).
    public var rangeCount: Int { self.ranges.count }

    /// True when `position` is acknowledged.
    public func contains(_ position: Position) -> Bool {
        if position < self.markDelete { return true }
        guard let index = self.lastRangeIndex(startingAtOrBelow: position.raw) else { return false }
        return self.ranges[index].contains(position.raw)
    }

    /// Acknowledges one position. Returns true when it was not acknowledged before.
    @discardableResult
    public mutating func insert(_ position: Position) -> Bool {
        if self.contains(position) { return false }
        self.insert(position.raw..<(position.raw + 1))
        return true
    }

    /// Acknowledges every position in `range`.
    public mutating func insert(_ range: Range<UInt64>) {
        var lower = max(range.lowerBound, self.markDelete.raw)
        var upper = range.upperBound
        guard lower < upper else { return }
        // Ranges that overlap or touch [lower, upper) are merged into it.
        let first = self.firstRangeIndex(endingAtOrAbove: lower)
        var last = first
        while last < self.ranges.count, self.ranges[last].lowerBound <= upper {
            lower = min(lower, self.ranges[last].lowerBound)
            upper = max(upper, self.ranges[last].upperBound)
            last += 1
        }
        if lower == self.markDelete.raw {
            // Contiguous with mark-delete: advance it instead of storing a range.
            self.ranges.removeSubrange(0..<last)
            self.markDelete = Position(upper)
            return
        }
        if first == last {
            self.ranges.insert(lower..<upper, at: first)
        } else {
            self.ranges.replaceSubrange(first..<last, with: [lower..<upper])
        }
    }

    /// Acknowledges everything strictly below `position`. Never moves mark-delete backwards.
    public mutating func advanceMarkDelete(to position: Position) {
        guard position > self.markDelete else { return }
        self.insert(self.markDelete.raw..<position.raw)
    }

    /// The unacknowledged positions in `from..<to`, in order (for redelivery after a restart).
    public func unacknowledged(from: Position, to: Position) -> [Position] {
        var result: [Position] = []
        var next = max(from.raw, self.markDelete.raw)
        guard next < to.raw else { return [] }
        var index = self.firstRangeIndex(endingAtOrAbove: next + 1)
        while next < to.raw {
            if index < self.ranges.count, self.ranges[index].lowerBound <= next {
                next = self.ranges[index].upperBound
                index += 1
                continue
            }
            let stop = index < self.ranges.count ? min(self.ranges[index].lowerBound, to.raw) : to.raw
            while next < stop {
                result.append(Position(next))
                next += 1
            }
        }
        return result
    }

    /// Index of the last range whose lowerBound <= value, or nil.
    private func lastRangeIndex(startingAtOrBelow value: UInt64) -> Int? {
        var low = 0
        var high = self.ranges.count
        while low < high {
            let mid = (low + high) / 2
            if self.ranges[mid].lowerBound <= value { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : low - 1
    }

    /// Index of the first range whose upperBound >= value (touching counts), or `ranges.count`.
    private func firstRangeIndex(endingAtOrAbove value: UInt64) -> Int {
        var low = 0
        var high = self.ranges.count
        while low < high {
            let mid = (low + high) / 2
            if self.ranges[mid].upperBound < value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
