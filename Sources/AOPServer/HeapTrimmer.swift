import CAOPMalloc
import Logging

/// Gives the heap's free memory back to the system when `HeapTrimPolicy` says so (glibc only).
/// Runs off the io rings (a plain task): a trim holds each arena's lock while it walks it.
struct HeapTrimmer: Sendable {
    var policy = HeapTrimPolicy()
    let interval: Duration

    func run(logger: Logger) async {
        var policy = self.policy
        let clock = ContinuousClock()
        while !Task.isCancelled {
            var inUse = 0
            var free = 0
            if aop_malloc_heap(&inUse, &free) == 1,
               policy.observe(inUse: UInt64(inUse), free: UInt64(free), now: clock.now) {
                let before = MemoryMonitor.residentBytes()
                let started = clock.now
                _ = aop_malloc_trim()
                let after = MemoryMonitor.residentBytes()
                logger.debug("heap trimmed", metadata: [
                    "in_use": "\(inUse)", "free": "\(free)",
                    "resident_before": "\(before.map(String.init) ?? "?")",
                    "resident_after": "\(after.map(String.init) ?? "?")",
                    "took": "\(clock.now - started)",
                ])
            }
            do {
                try await Task.sleep(for: self.interval)
            } catch {
                return
            }
        }
    }
}
