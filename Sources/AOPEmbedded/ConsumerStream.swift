import AOPBroker
import DequeModule
import Synchronization

/// One in-process consumer: the queue's `DeliverySink` on one side, the source of an
/// ``EmbeddedConsumer``'s iterator and the settler of its deliveries on the other.
///
/// Bounded: the queue delivers only within the consumer's `CreditGate` (prefetch = unacked deliveries,
/// transit window = deliveries buffered here but not yet handed out), so the buffer never holds more than
/// `prefetch` deliveries. Ending it (cancel, task cancellation, iterator dropped, shutdown) cancels the
/// consumer at the queue first, then requeues every delivery not settled yet, in delivery order.
final class ConsumerStream: DeliverySink, DeliverySettler {
    enum End: Sendable, Equatable {
        case cancelled, queueDeleted, shutdown
    }

    enum Next: Sendable {
        case delivery(Delivery)
        case end(End)
    }

    struct State {
        var buffer: Deque<Delivery> = []
        var waiter: CheckedContinuation<Next, Never>?
        /// Delivered (buffered or handed out) and not settled; ack mode only.
        var pending: Set<UInt64> = []
        var end: End?
        var finishTask: Task<Void, Never>?
    }

    let queue: MessageQueue
    let tag: String
    let noAck: Bool
    let credit: CreditGate
    /// Weak: a consumer or delivery kept after shutdown must not keep the broker (and its vhosts'
    /// background tasks) alive.
    weak let runtime: EmbeddedRuntime?
    let state = Mutex(State())

    init(queue: MessageQueue, tag: String, noAck: Bool, prefetch: UInt32, runtime: EmbeddedRuntime) {
        self.queue = queue
        self.tag = tag
        self.noAck = noAck
        self.runtime = runtime
        self.credit = noAck
            ? CreditGate(consumerLimit: 0, channel: nil, unlimited: true, transitWindow: prefetch)
            : CreditGate(consumerLimit: prefetch, channel: nil, unlimited: false, transitWindow: prefetch)
    }

    // MARK: DeliverySink (called from the queue's isolation)

    func deliver(_ batch: [Delivery]) {
        let handoff: (CheckedContinuation<Next, Never>, Delivery)? = self.state.withLock { s in
            if !self.noAck {
                for d in batch { s.pending.insert(d.deliveryID) }
            }
            s.buffer.append(contentsOf: batch)
            guard s.end == nil, let waiter = s.waiter, let first = s.buffer.popFirst() else { return nil }
            s.waiter = nil
            return (waiter, first)
        }
        if let (waiter, first) = handoff { waiter.resume(returning: .delivery(first)) }
    }

    func consumerCancelled(tag: String) {
        _ = self.finish(.queueDeleted)
    }

    // MARK: iteration

    /// The next delivery; nil once the consumer ended (cancelled or shutdown); throws
    /// `.consumerCancelled` when the broker cancelled it (queue deleted).
    func next() async throws(EmbeddedBrokerError) -> Delivery? {
        let next: Next = await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Next, Never>) in
                let now: Next? = self.state.withLock { s in
                    if let end = s.end { return .end(end) }
                    if let d = s.buffer.popFirst() { return .delivery(d) }
                    precondition(s.waiter == nil, "an EmbeddedConsumer is iterated by one task at a time")
                    s.waiter = c
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            _ = self.finish(.cancelled)
        }
        switch next {
        case .delivery(let d):
            // Handed out: its transit credit returns; wake the queue if that was what held it back.
            let wasBlocked = !self.credit.hasCredit
            self.credit.transmitted(1)
            if wasBlocked, self.credit.hasCredit { await self.queue.creditAvailable() }
            return d
        case .end(.queueDeleted):
            throw EmbeddedBrokerError(kind: .consumerCancelled, replyCode: 0,
                                      message: "consumer '\(self.tag)' cancelled by the broker (queue '\(self.queue.name)' deleted)")
        case .end:
            return nil
        }
    }

    // MARK: settlement

    func settle(deliveryID: UInt64, _ settlement: Settlement) async throws(EmbeddedBrokerError) {
        let (wasPending, open) = self.state.withLock { s in
            (s.pending.remove(deliveryID) != nil, s.end == nil)
        }
        guard wasPending else { throw .notPending(deliveryID) }
        self.credit.settled(1)
        await self.queue.settle([deliveryID], settlement)
        if open { await self.queue.creditAvailable() }
    }

    // MARK: ending

    /// Ends the consumer once (later calls return the same task): wakes the iterator, cancels the
    /// consumer at the queue, then requeues what was delivered and not settled. Shutdown awaits it.
    func finish(_ end: End) -> Task<Void, Never> {
        let (task, waiter): (Task<Void, Never>, CheckedContinuation<Next, Never>?) = self.state.withLock { s in
            if let task = s.finishTask { return (task, nil) }
            s.end = end
            let waiter = s.waiter
            s.waiter = nil
            let task = Task { await self.runFinish(end) }
            s.finishTask = task
            return (task, waiter)
        }
        waiter?.resume(returning: .end(end))
        return task
    }

    private func runFinish(_ end: End) async {
        if end != .queueDeleted {
            // After this returns the queue delivers nothing more to this sink.
            await self.queue.cancel(consumerTag: self.tag)
        }
        let unsettled: [UInt64] = self.state.withLock { s in
            s.buffer.removeAll()
            defer { s.pending.removeAll() }
            return s.pending.sorted()
        }
        if end != .queueDeleted, !unsettled.isEmpty {
            await self.queue.settle(unsettled, .requeue)
        }
        self.runtime?.unregister(self)
    }
}
