import AOPIO

/// Group commit: callers write into the page cache, then wait here. Each round fdatasyncs every file
/// that became dirty before the round started, once, concurrently, and then resumes every waiter for
/// those files. Appends that arrive while a round is syncing join the next round, so under load one
/// fdatasync covers many appends (and one round covers every topic).
actor DurabilityScheduler {
    private typealias Waiter = CheckedContinuation<Result<Void, StorageError>, Never>

    private var dirty: [ObjectIdentifier: (file: any AsyncFile, waiters: [Waiter])] = [:]
    private var running = false
    private let counters: StorageCounters

    init(counters: StorageCounters) {
        self.counters = counters
    }

    /// Returns once everything written to `file` before this call is durable.
    func commit(_ file: any AsyncFile) async throws(StorageError) {
        let result = await withCheckedContinuation { (waiter: Waiter) in
            self.dirty[ObjectIdentifier(file), default: (file, [])].waiters.append(waiter)
            if !self.running {
                self.running = true
                Task { await self.runRounds() }
            }
        }
        try result.get()
    }

    private func runRounds() async {
        while !self.dirty.isEmpty {
            let round = self.dirty
            self.dirty = [:]
            self.counters.update {
                $0.commitRounds += 1
                $0.fileSyncs += round.count
            }
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
            for (id, entry) in round {
                let result: Result<Void, StorageError>
                if let error = failures[id] {
                    result = .failure(StorageError(error, "fdatasync \(entry.file.path)"))
                } else {
                    result = .success(())
                }
                for waiter in entry.waiters { waiter.resume(returning: result) }
            }
        }
        self.running = false
    }
}
