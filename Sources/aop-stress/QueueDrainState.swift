import AOPClient
import AOPStress
import Synchronization

/// The drain of one stable queue, shared by its loop of attempts and their readers (an attempt that hangs
/// in a client call is abandoned: its connection is aborted and a new attempt starts).
final class QueueDrainState: Sendable {
    let queue: String
    /// Last sign of life from the broker (a delivery or a reply): the no-progress check.
    private let progress = Mutex(ContinuousClock.now)
    /// Last delivery to the drain's consumer: the quiet-period check.
    private let lastDelivery = Mutex(ContinuousClock.now)
    /// Last passive declare: ready messages, consumers other than the drain's own.
    let lastSeen = Mutex<(ready: UInt32, consumers: UInt32)?>(nil)
    /// The current attempt's connection (aborted when the attempt makes no progress).
    let connection = Mutex<AMQPClientConnection?>(nil)
    /// Set once the queue reported empty with no consumer.
    let done = Atomic<Bool>(false)
    /// Set when the broker refused the current attempt's consumer (closed the channel on basic.qos or
    /// basic.consume): the attempt goes on with basic.get.
    let consumeRefused = Atomic<Bool>(false)
    /// Messages the drain got from this queue.
    let messages = Atomic<Int>(0)
    /// The number of the last attempt that ended.
    let attemptsEnded = Atomic<Int>(0)

    init(_ queue: String) { self.queue = queue }

    func advanced() { self.progress.withLock { $0 = .now } }
    var idle: Duration { ContinuousClock.now - self.progress.withLock { $0 } }

    /// Deliveries arrived (or a consumer started: the quiet period counts from then).
    func delivered(_ count: Int) {
        let now = ContinuousClock.now
        self.lastDelivery.withLock { $0 = now }
        self.progress.withLock { $0 = now }
        if count > 0 { self.messages.add(count, ordering: .relaxed) }
    }

    func isQuiet(for quiet: Duration) -> Bool {
        DrainCheck.isQuiet(lastDelivery: self.lastDelivery.withLock { $0 }, now: .now, quiet: quiet)
    }

    /// Records a passive declare's answer and judges it.
    func saw(_ declared: AMQPQueueDeclareResult, ownConsumers: UInt32) -> DrainCheck.Verdict {
        self.advanced()
        let others = DrainCheck.otherConsumers(consumerCount: declared.consumerCount, ownConsumers: ownConsumers)
        self.lastSeen.withLock { $0 = (declared.messageCount, others) }
        return DrainCheck.verdict(messageCount: declared.messageCount, consumerCount: declared.consumerCount,
                                  ownConsumers: ownConsumers)
    }
}
