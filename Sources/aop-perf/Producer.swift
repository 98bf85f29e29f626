import Synchronization
import AOPClient
import AOPIO

/// One publishing connection's loop: pre-encoded batches, optional fixed rate, confirm window, backlog cap.
actor Producer {
    struct Plan: Sendable {
        /// Messages to publish (nil = until stopped).
        var count: Int?
        /// Messages per second for this producer (0 = unlimited).
        var rate: Double
        /// Confirm window (0 = no confirms).
        var window: Int
        var batch: Int
        /// Pause while published × fanout − consumed exceeds this.
        var maxBacklog: Int?
        var fanoutFactor: Int
    }

    nonisolated let loop: RingLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { self.loop.asUnownedSerialExecutor() }
    let channel: AMQPClientChannel
    let encoder: AMQPPublishEncoder
    let stats: PerfStats
    let plan: Plan
    private var acked: UInt64 = 0
    private var nacked: UInt64 = 0

    init(channel: AMQPClientChannel, encoder: AMQPPublishEncoder, stats: PerfStats, plan: Plan) {
        self.loop = channel.connection.loop
        self.channel = channel
        self.encoder = encoder
        self.stats = stats
        self.plan = plan
    }

    func run() async {
        do {
            try await self.publishAll()
        } catch {
            if !self.stats.isStopping { self.stats.record(error: "producer on channel \(self.channel.id): \(error)") }
        }
    }

    private func publishAll() async throws {
        let plan = self.plan
        if plan.window > 0 { try await self.channel.confirmSelect() }
        let timestamped = self.encoder.bodyCount >= 8
        var buffer: [UInt8] = []
        buffer.reserveCapacity(plan.batch * self.encoder.template.count)
        var published = 0
        let start = monotonicNanos()
        while !self.stats.isStopping {
            var n = plan.batch
            if let count = plan.count {
                n = min(n, count - published)
                if n <= 0 { break }
            }
            if plan.rate > 0 {
                let elapsed = Double(monotonicNanos() - start) / 1e9
                let due = Int(elapsed * plan.rate) - published
                if due <= 0 {
                    let wait = (Double(published + 1) / plan.rate - elapsed) * 1e9
                    try await self.loop.sleep(for: .nanoseconds(max(Int(wait), 1000)))
                    continue
                }
                n = min(n, due)
            }
            if plan.window > 0 {
                // A quarter window per write keeps the window full without stop-and-wait.
                n = min(n, max(1, plan.window / 4))
                try await self.channel.waitForConfirms(outstandingBelow: plan.window - n + 1)
                try await self.updateConfirms()
            }
            if let maxBacklog = plan.maxBacklog {
                while !self.stats.isStopping,
                    self.stats.published.load(ordering: .relaxed) * plan.fanoutFactor
                        - self.stats.consumed.load(ordering: .relaxed) > maxBacklog
                {
                    try await self.loop.sleep(for: .milliseconds(1))
                }
            }
            buffer.removeAll(keepingCapacity: true)
            if timestamped {
                let now = monotonicNanos()
                for _ in 0..<n { self.encoder.append(bodyPrefix: now, to: &buffer) }
            } else {
                self.encoder.append(count: n, to: &buffer)
            }
            try await self.channel.publish(encoded: buffer, count: n)
            published += n
            self.stats.published.wrappingAdd(n, ordering: .relaxed)
            await Task.yield()
        }
        if plan.window > 0 {
            while !self.stats.isStopping {
                let counts = try await self.channel.confirmCounts()
                if counts.acked + counts.nacked >= counts.published { break }
                try await self.loop.sleep(for: .milliseconds(1))
                try await self.updateConfirms()
            }
            try await self.updateConfirms()
        }
    }

    private func updateConfirms() async throws {
        let counts = try await self.channel.confirmCounts()
        self.stats.confirmed.wrappingAdd(Int(counts.acked - self.acked), ordering: .relaxed)
        self.stats.nacked.wrappingAdd(Int(counts.nacked - self.nacked), ordering: .relaxed)
        self.acked = counts.acked
        self.nacked = counts.nacked
    }
}
