import AOPIO

/// Group commit: callers write into the page cache, then wait here. Each round fdatasyncs every file
/// that became dirty before the round started, once, concurrently, and then resumes every waiter for
/// those files. Appends that arrive while rounds are syncing join a later round, so under load one
/// fdatasync covers many appends (and one round covers every topic).
///
/// Up to `maximumRoundsInFlight` rounds run at once: a round starts as soon as something is dirty (and
/// no hold is active), without waiting for the previous round's fdatasyncs, so a caller's latency is one
/// round, not the rest of the previous round plus its own. A file may be in two rounds at once; each
/// round's fdatasync covers what was written to it before that round started. (A topic keeps at most two
/// batches unsynced; see `DiskTopic` and recovery's torn-tail rule.)
///
/// A caller about to make several related writes (a message and its queue index entries) takes a
/// `CommitHold` first: no round starts while a hold is active, so one round covers all of those writes.
/// A hold that stays longer than `maximumHold` is overridden (a held writer may itself wait for a round,
/// e.g. behind another writer's batch on a shared index topic), so holds delay rounds but never block them.
actor DurabilityScheduler {
    private typealias Waiter = CheckedContinuation<Result<Void, StorageError>, Never>
    private typealias Round = [ObjectIdentifier: (file: any AsyncFile, waiters: [Waiter])]

    private var dirty: Round = [:]
    private var roundsInFlight = 0
    private var holds = 0
    private var watchdogArmed = false
    private let counters: StorageCounters
    let maximumHold: Duration
    let maximumRoundsInFlight: Int

    init(counters: StorageCounters, maximumHold: Duration = .milliseconds(2), maximumRoundsInFlight: Int = 3) {
        self.counters = counters
        self.maximumHold = maximumHold
        self.maximumRoundsInFlight = max(1, maximumRoundsInFlight)
    }

    /// Returns once everything written to `file` before this call is durable.
    func commit(_ file: any AsyncFile) async throws(StorageError) {
        let asked = ContinuousClock.now
        let result = await withCheckedContinuation { (waiter: Waiter) in
            self.dirty[ObjectIdentifier(file), default: (file, [])].waiters.append(waiter)
            self.startRounds(ignoringHolds: false)
        }
        let waited = ContinuousClock.now - asked
        self.counters.update {
            $0.commitWaits += 1
            $0.commitWaitMicroseconds += Self.microseconds(waited)
        }
        try result.get()
    }

    /// Delays rounds until `release()` (or `maximumHold`).
    func hold() -> CommitHold {
        self.holds += 1
        return CommitHold(scheduler: self)
    }

    /// Called once per hold by `CommitHold.release()`.
    func release() {
        self.holds -= 1
        if self.holds == 0 { self.startRounds(ignoringHolds: false) }
    }

    private func startRounds(ignoringHolds: Bool) {
        guard self.roundsInFlight < self.maximumRoundsInFlight, !self.dirty.isEmpty else { return }
        if self.holds > 0, !ignoringHolds {
            self.armWatchdog()
            return
        }
        let round = self.dirty
        self.dirty = [:]
        self.roundsInFlight += 1
        Task { await self.run(round) }
    }

    private func armWatchdog() {
        guard !self.watchdogArmed else { return }
        self.watchdogArmed = true
        let delay = self.maximumHold
        Task {
            try? await Task.sleep(for: delay)
            self.watchdogFired()
        }
    }

    private func watchdogFired() {
        self.watchdogArmed = false
        self.startRounds(ignoringHolds: true)
    }

    private func run(_ round: Round) async {
        self.counters.update {
            $0.commitRounds += 1
            $0.fileSyncs += round.count
        }
        let started = ContinuousClock.now
        let failures = await withTaskGroup(of: (ObjectIdentifier, IOError?).self) { group in
            for (id, entry) in round {
                let file = entry.file
                group.addTask {
                    do throws(IOError) {
                        try await file.sync()
                        return (id, nil)
                    } catch {
                        return (id, error)
                    }
                }
            }
            var failures: [ObjectIdentifier: IOError] = [:]
            for await (id, error) in group {
                if let error { failures[id] = error }
            }
            return failures
        }
        let elapsed = ContinuousClock.now - started
        self.counters.update { $0.commitMicroseconds += Self.microseconds(elapsed) }
        for (id, entry) in round {
            let result: Result<Void, StorageError>
            if let error = failures[id] {
                result = .failure(StorageError(error, "fdatasync \(entry.file.path)"))
            } else {
                result = .success(())
            }
            for waiter in entry.waiters { waiter.resume(returning: result) }
        }
        self.roundsInFlight -= 1
        self.startRounds(ignoringHolds: false)
    }

    private static func microseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
    }
}
