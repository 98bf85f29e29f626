// A work queue served by in-process workers: publish N jobs to a durable queue, let 4 workers consume
// them concurrently (prefetch 10, ack after the work), and check every job was done exactly once.
//
//   swift run aop-example-workqueue [jobs] [data-directory]
//
// Without a data directory the broker keeps everything in memory.
import AOPEmbedded
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments.dropFirst()
let jobCount = arguments.first.flatMap(Int.init) ?? 1000
let workerCount = 4
let storage: EmbeddedConfiguration.Storage = arguments.dropFirst().first.map { .directory($0) } ?? .inMemory

/// Jobs done, by worker, and how often each job was done.
final class Ledger: Sendable {
    let state = Mutex<(byWorker: [Int: Int], timesDone: [Int: Int], total: Int)>(([:], [:], 0))
    let allDone: AsyncStream<Void>
    let signal: AsyncStream<Void>.Continuation
    let expected: Int

    init(expected: Int) {
        self.expected = expected
        (self.allDone, self.signal) = AsyncStream.makeStream()
    }

    func done(job: Int, by worker: Int) {
        let total = self.state.withLock { s in
            s.byWorker[worker, default: 0] += 1
            s.timesDone[job, default: 0] += 1
            s.total += 1
            return s.total
        }
        if total == self.expected { self.signal.finish() }
    }
}

/// The "work": a small checksum of the job's body.
func work(_ body: [UInt8]) -> UInt32 {
    body.reduce(UInt32(2166136261)) { ($0 ^ UInt32($1)) &* 16777619 }
}

let ledger = Ledger(expected: jobCount)
let clock = ContinuousClock()
let start = clock.now

do {
    try await EmbeddedBroker.with(configuration: EmbeddedConfiguration(storage: storage)) { broker in
        try await broker.declareQueue("jobs", durable: true)
        // One confirmed batch per 100 jobs: each `publish(batch:)` returns once its jobs are durable.
        for first in stride(from: 0, to: jobCount, by: 100) {
            let batch = (first..<min(first + 100, jobCount)).map { i in
                PublishRequest(message: Message(exchange: "", routingKey: "jobs", properties: EmbeddedBroker.persistent,
                                                body: Array("job-\(i)".utf8)), mandatory: true)
            }
            let outcomes = try await broker.publish(batch: batch)
            precondition(outcomes.allSatisfy { $0 == .routed })
        }
        print("published \(jobCount) jobs")

        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workerCount {
                group.addTask {
                    // Cancelling this task (below, once every job is done) cancels the consumer.
                    for try await delivery in try await broker.consume(queue: "jobs", prefetch: 10) {
                        let name = String(decoding: delivery.body, as: UTF8.self)
                        guard let job = Int(name.dropFirst(4)) else { fatalError("bad job \(name)") }
                        _ = work(delivery.body)
                        try await delivery.ack()
                        ledger.done(job: job, by: worker)
                    }
                }
            }
            for await _ in ledger.allDone {}
            group.cancelAll()
            try await group.waitForAll()
        }
        let left = try await broker.declareQueue("jobs", passive: true)
        precondition(left.messageCount == 0, "\(left.messageCount) jobs left in the queue")
    }
} catch {
    print("work queue failed: \(error)")
    exit(1)
}

let elapsed = clock.now - start
let (byWorker, timesDone, total) = ledger.state.withLock { ($0.byWorker, $0.timesDone, $0.total) }
for worker in 0..<workerCount { print("worker \(worker): \(byWorker[worker, default: 0]) jobs") }
let missing = (0..<jobCount).filter { timesDone[$0] == nil }
let repeated = timesDone.filter { $0.value > 1 }.map(\.key)
print("done \(total) jobs in \(elapsed); missing \(missing.count), done twice \(repeated.count)")
exit(missing.isEmpty && repeated.isEmpty && total == jobCount ? 0 : 1)
