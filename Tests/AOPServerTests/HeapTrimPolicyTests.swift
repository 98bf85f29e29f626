import AOPServer
import Testing

@Suite struct HeapTrimPolicyTests {
    private let mib: UInt64 = 1 << 20
    private let t0 = ContinuousClock().now

    /// `observe` is mutating, which `#expect` cannot call in place.
    private func trims(_ policy: inout HeapTrimPolicy, inUse: UInt64, free: UInt64,
                       now: ContinuousClock.Instant) -> Bool {
        policy.observe(inUse: inUse, free: free, now: now)
    }

    @Test func trimsOnlyWhenMuchIsFreeAndAGoodShareOfTheHeap() {
        var policy = HeapTrimPolicy(minimumFreeBytes: 64 * mib, minimumGrowthBytes: 16 * mib, retryInterval: .seconds(60))
        #expect(!trims(&policy, inUse: 10 * mib, free: 63 * mib, now: t0))       // below the minimum
        #expect(!trims(&policy, inUse: 500 * mib, free: 200 * mib, now: t0))     // busy heap: free < in use / 2
        #expect(trims(&policy, inUse: 90 * mib, free: 300 * mib, now: t0))       // a consumed backlog
    }

    @Test func trimsAgainOnlyAfterTheFreeMemoryGrewOrTheRetryIntervalPassed() {
        var policy = HeapTrimPolicy(minimumFreeBytes: 64 * mib, minimumGrowthBytes: 16 * mib, retryInterval: .seconds(60))
        #expect(trims(&policy, inUse: 90 * mib, free: 300 * mib, now: t0))
        // A trim leaves the free chunks counted as free: the same figure must not trim every tick.
        #expect(!trims(&policy, inUse: 90 * mib, free: 300 * mib, now: t0 + .seconds(5)))
        #expect(!trims(&policy, inUse: 90 * mib, free: 315 * mib, now: t0 + .seconds(10)))
        #expect(trims(&policy, inUse: 90 * mib, free: 316 * mib, now: t0 + .seconds(15)))
        // Reused, then freed again: growth is measured from the least free memory seen since.
        #expect(!trims(&policy, inUse: 400 * mib, free: 100 * mib, now: t0 + .seconds(20)))
        #expect(trims(&policy, inUse: 90 * mib, free: 116 * mib, now: t0 + .seconds(25)))
        #expect(!trims(&policy, inUse: 90 * mib, free: 131 * mib, now: t0 + .seconds(80)))
        #expect(trims(&policy, inUse: 90 * mib, free: 131 * mib, now: t0 + .seconds(86)))
    }
}
