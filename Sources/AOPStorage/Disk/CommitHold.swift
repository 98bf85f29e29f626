import Synchronization

/// Keeps the group-commit scheduler from starting a round while related writes are being issued, so
/// one fdatasync round covers all of them (see `Topic.holdCommits()`). Release it once the writes are
/// in the page cache; releasing twice is harmless. The scheduler overrides a hold kept too long.
public final class CommitHold: Sendable {
    private let scheduler: DurabilityScheduler
    private let released = Atomic<Bool>(false)

    init(scheduler: DurabilityScheduler) {
        self.scheduler = scheduler
    }

    public func release() async {
        guard !self.released.exchange(true, ordering: .relaxed) else { return }
        await self.scheduler.release()
    }

    deinit {
        // A hold dropped without release() must not delay rounds for ever (the watchdog would cover it,
        // at a cost on every round): release it here.
        if !self.released.load(ordering: .relaxed) {
            let scheduler = self.scheduler
            Task { await scheduler.release() }
        }
    }
}
