import Synchronization

/// Counters shared by every producer and consumer of a run (relaxed atomics: read once a second).
final class PerfStats: Sendable {
    let published = Atomic<Int>(0)
    let consumed = Atomic<Int>(0)
    let confirmed = Atomic<Int>(0)
    let nacked = Atomic<Int>(0)
    let returned = Atomic<Int>(0)
    /// Set when the run should end; producers and consumers check it between batches.
    let stop = Atomic<Bool>(false)
    /// Bumped when the warmup ends: consumers then start their latency histograms afresh.
    let epoch = Atomic<Int>(0)
    /// Monotonic time of the last consumed batch.
    let lastConsumed = Atomic<UInt64>(0)
    private let errorList = Mutex<[String]>([])

    var isStopping: Bool { self.stop.load(ordering: .relaxed) }

    func record(error: String) {
        self.errorList.withLock { $0.append(error) }
    }

    var errors: [String] { self.errorList.withLock { $0 } }

    /// All counters at one moment.
    func snapshot() -> Snapshot {
        Snapshot(published: self.published.load(ordering: .relaxed), consumed: self.consumed.load(ordering: .relaxed),
                 confirmed: self.confirmed.load(ordering: .relaxed), nacked: self.nacked.load(ordering: .relaxed),
                 returned: self.returned.load(ordering: .relaxed))
    }

    struct Snapshot: Sendable {
        var published = 0
        var consumed = 0
        var confirmed = 0
        var nacked = 0
        var returned = 0

        static func - (lhs: Snapshot, rhs: Snapshot) -> Snapshot {
            Snapshot(published: lhs.published - rhs.published, consumed: lhs.consumed - rhs.consumed,
                     confirmed: lhs.confirmed - rhs.confirmed, nacked: lhs.nacked - rhs.nacked,
                     returned: lhs.returned - rhs.returned)
        }
    }
}
