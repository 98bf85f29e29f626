import AOPClient
import AOPIO
import AOPStress
import Synchronization

/// One aop-stress run: set up, drive, drain, check, report.
struct StressRun {
    let options: StressSettings

    struct Report {
        var result: InvariantChecker.Result
        var stats: RunStats.Snapshot
        var violations: [Violation]
        var runID: UInt32
        var prefix: String
        var elapsed: Duration
        var drained: Bool
        /// Stable queues the drain could not empty, with their last state (a consumer left after every
        /// client of the run is gone means the broker kept a consumer of a closed connection).
        var notDrained: [String: String]
        /// Messages the final drain read, and how long it took.
        var drainMessages: Int
        var drainElapsed: Duration
        var rssStart: UInt64?
        var rssPeak: UInt64?
        var rssEnd: UInt64?
        var events: [StressEvent]
        var stalls: [String]
    }

    func run() async throws -> Report {
        var runRandom = StressRandom(seed: self.options.seed ^ UInt64(UInt(bitPattern: ContinuousClock.now.hashValue)))
        let runID = UInt32(truncatingIfNeeded: runRandom.next())
        let prefix = "aops" + String(runID, radix: 16)
        let topology = StressTopology(prefix: prefix)
        let loops = try (0..<max(1, self.options.clientThreads)).map {
            try RingLoop(name: "stress-\($0)")
        }
        defer { for loop in loops { loop.shutdown() } }
        let started = ContinuousClock.now
        let context = RunContext(options: self.options, topology: topology, runID: runID, loops: loops,
                                 deadline: started + self.options.duration)
        let pid = self.options.brokerPID
        let rssStart = pid.flatMap(BrokerMemory.residentBytes)

        try await self.setUp(context)
        let sampler = Task { () -> UInt64? in
            var peak = rssStart
            while !Task.isCancelled {
                if let pid, let now = BrokerMemory.residentBytes(pid: pid) { peak = max(peak ?? 0, now) }
                try? await Task.sleep(for: .milliseconds(500))
            }
            return peak
        }
        let progress = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                if Task.isCancelled { break }
                let s = context.stats.snapshot
                stderr("aop-stress: \(Int((ContinuousClock.now - started) / .seconds(1))) s, "
                    + "\(s.operations.values.reduce(0, +)) operations, \(s.connects) connects, "
                    + "\(context.log.violationCount) violations so far\n")
            }
        }
        let connections = self.options.connections
        let workers = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<connections {
                    group.addTask { await ConnectionWorker(context: context, index: index).run() }
                }
            }
        }
        // Workers end by themselves shortly after the deadline; a client call that never returns must not
        // keep the run from its checks: after a grace period every connection is aborted and the run goes on.
        let grace = self.options.operationTimeout + .seconds(5)
        if await !Self.finished(workers, within: self.options.duration + grace) {
            stderr("aop-stress: workers still busy \(grace) after the deadline: aborting their connections\n")
            context.stats.clientError("workers did not finish \(grace) after the deadline")
            for control in context.controls.withLock({ Array($0.values) }) { await control.end(.abort) }
            _ = await Self.finished(workers, within: .seconds(3))
        }
        progress.cancel()
        let drain = await Drainer(context: context).drain(timeout: self.options.drainTimeout)
        let drained = drain.notDrained.isEmpty
        if !self.options.keep { await Drainer(context: context).cleanUp() }
        var rssEnd: UInt64?
        if let pid {
            // Give the broker a moment to release connection and queue state and to hand freed heap back
            // (aop-server's heap trimmer looks every 5 s): up to 15 s, until RSS is within the slack.
            let deadline = ContinuousClock.now + .seconds(15)
            try? await Task.sleep(for: .seconds(3))
            rssEnd = BrokerMemory.residentBytes(pid: pid)
            while let end = rssEnd, let start = rssStart, end > start + self.options.rssSlackBytes,
                  ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(500))
                rssEnd = BrokerMemory.residentBytes(pid: pid)
            }
        }
        sampler.cancel()
        let rssPeak = await sampler.value

        var result = context.log.finish()
        var violations = result.violations
        if let start = rssStart, let end = rssEnd, end > start + self.options.rssSlackBytes {
            violations.append(Violation(.memoryNotReturned,
                "broker RSS \(end >> 20) MiB after the run, \(start >> 20) MiB before (slack \(self.options.rssSlackBytes >> 20) MiB)"))
        }
        let stalls = context.stalls.withLock { $0 }
        if self.options.stallsAreViolations {
            for stall in stalls { violations.append(Violation(.stalled, stall)) }
        }
        if !drained {
            stderr("aop-stress: the stable queues were not drained within \(self.options.drainTimeout): losses may be reported for messages still queued\n")
        }
        result.violations = violations
        return Report(result: result, stats: context.stats.snapshot, violations: violations, runID: runID,
                      prefix: prefix, elapsed: ContinuousClock.now - started, drained: drained, notDrained: drain.notDrained,
                      drainMessages: drain.messages, drainElapsed: drain.elapsed, rssStart: rssStart,
                      rssPeak: rssPeak, rssEnd: rssEnd, events: context.log.events, stalls: stalls)
    }

    /// Waits for `task` at most `limit`; true when it finished.
    static func finished(_ task: Task<Void, Never>, within limit: Duration) async -> Bool {
        let done = Atomic<Bool>(false)
        let waiter = Task {
            await task.value
            done.store(true, ordering: .releasing)
        }
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline, !done.load(ordering: .acquiring) {
            try? await Task.sleep(for: .milliseconds(100))
        }
        _ = waiter
        return done.load(ordering: .acquiring)
    }

    /// Declares the stable exchanges and queues and binds them (retried: socket faults may cut it short).
    func setUp(_ context: RunContext) async throws {
        var lastError: (any Error)?
        for _ in 0..<30 {
            var opened: AMQPClientConnection?
            do {
                let connection = try await AMQPClientConnection.connect(context.clientConfiguration,
                                                                        on: context.loop(for: 0))
                opened = connection
                let channel = try await connection.openChannel()
                for exchange in context.topology.stableExchanges {
                    try await channel.exchangeDeclare(exchange.name, type: exchange.type, durable: true)
                }
                for queue in context.topology.stableQueues {
                    _ = try await channel.queueDeclare(queue, durable: true)
                }
                for binding in context.topology.stableBindings {
                    try await channel.queueBind(binding.queue, exchange: binding.exchange, routingKey: binding.key)
                }
                try await connection.close()
                return
            } catch {
                lastError = error
                if let opened { await opened.abort() }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        throw SetupError(text: "cannot set up the stable exchanges and queues: \(lastError.map { "\($0)" } ?? "?")")
    }

    struct SetupError: Error, CustomStringConvertible {
        var text: String
        var description: String { self.text }
    }
}
