/// Which published sequence numbers the server has settled (publisher confirms), as a pure value.
///
/// Everything up to `settledThrough` is settled; settled numbers above it wait in `settledAbove` until the
/// gap closes (brokers confirm in order, so that set stays tiny).
struct ConfirmTracker: Sendable, Hashable {
    /// The last sequence number published (sequence numbers start at 1).
    private(set) var published: UInt64 = 0
    private(set) var settledThrough: UInt64 = 0
    private(set) var settledAbove: Set<UInt64> = []
    private(set) var acked: UInt64 = 0
    private(set) var nacked: UInt64 = 0

    /// Published and not settled yet.
    var outstanding: UInt64 { self.published - self.settledThrough - UInt64(self.settledAbove.count) }

    /// Records `count` publishes and returns the last one's sequence number.
    mutating func publish(count: Int = 1) -> UInt64 {
        self.published += UInt64(count)
        return self.published
    }

    /// Applies a `basic.ack` / `basic.nack` and returns how many publishes it settled. Tags beyond
    /// what was published, and tags already settled, settle nothing.
    @discardableResult
    mutating func settle(deliveryTag: UInt64, multiple: Bool, ack: Bool) -> UInt64 {
        let tag = min(deliveryTag, self.published)
        var settled: UInt64 = 0
        if multiple {
            if tag > self.settledThrough {
                settled = tag - self.settledThrough
                let above = self.settledAbove.filter { $0 <= tag }
                settled -= UInt64(above.count)
                self.settledAbove.subtract(above)
                self.settledThrough = tag
            }
        } else if deliveryTag == tag, tag > self.settledThrough, !self.settledAbove.contains(tag) {
            settled = 1
            if tag == self.settledThrough + 1 {
                self.settledThrough = tag
            } else {
                self.settledAbove.insert(tag)
            }
        }
        while self.settledAbove.remove(self.settledThrough + 1) != nil {
            self.settledThrough += 1
        }
        if ack { self.acked += settled } else { self.nacked += settled }
        return settled
    }
}
