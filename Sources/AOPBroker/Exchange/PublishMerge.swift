/// Several callers' publish batches written as one (`Exchange.beginPublish` combines the batches that
/// queued up while the previous round ran): the batches concatenated in arrival order, and where each
/// caller's share lies. Pure bookkeeping, no I/O.
struct PublishMerge<Item> {
    /// Every batch's items, batch after batch, each in its own order.
    private(set) var items: [Item] = []
    /// Per batch (in the order given), the range of its items in `items`.
    private(set) var ranges: [Range<Int>] = []

    init(_ batches: [[Item]]) {
        self.items.reserveCapacity(batches.reduce(0) { $0 + $1.count })
        for batch in batches {
            let start = self.items.count
            self.items.append(contentsOf: batch)
            self.ranges.append(start..<self.items.count)
        }
    }

    /// Cuts per-item results of the merged batch (one per item of `items`, in order) into one array per
    /// batch, each in its batch's own order.
    func split<Result>(_ merged: [Result]) -> [[Result]] {
        precondition(merged.count == self.items.count, "one result per merged item")
        return self.ranges.map { Array(merged[$0]) }
    }
}
