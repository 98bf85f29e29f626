import AOPBroker
import Synchronization

/// Deliveries taken with basic.get (not auto-ack) and not yet settled, so that shutdown can give them
/// back to their queues.
final class GetLedger: Sendable {
    struct Key: Hashable {
        var queue: ObjectIdentifier
        var deliveryID: UInt64
    }
    let pending = Mutex<[Key: MessageQueue]>([:])

    func record(_ queue: MessageQueue, deliveryID: UInt64) {
        self.pending.withLock { $0[Key(queue: ObjectIdentifier(queue), deliveryID: deliveryID)] = queue }
    }

    /// Removes and returns the queue of a pending delivery.
    func take(_ queue: MessageQueue, deliveryID: UInt64) -> MessageQueue? {
        self.pending.withLock { $0.removeValue(forKey: Key(queue: ObjectIdentifier(queue), deliveryID: deliveryID)) }
    }

    func requeueAll() async {
        let all = self.pending.withLock { p in
            defer { p.removeAll() }
            return p
        }
        var byQueue: [ObjectIdentifier: (MessageQueue, [UInt64])] = [:]
        for (key, queue) in all { byQueue[key.queue, default: (queue, [])].1.append(key.deliveryID) }
        for (_, (queue, ids)) in byQueue { await queue.settle(ids, .requeue) }
    }
}

/// Settles one basic.get delivery through the ledger.
final class GetSettler: DeliverySettler {
    let ledger: GetLedger
    let queue: MessageQueue

    init(ledger: GetLedger, queue: MessageQueue) {
        self.ledger = ledger
        self.queue = queue
    }

    func settle(deliveryID: UInt64, _ settlement: Settlement) async throws(EmbeddedBrokerError) {
        guard let queue = self.ledger.take(self.queue, deliveryID: deliveryID) else {
            throw .notPending(deliveryID)
        }
        await queue.settle([deliveryID], settlement)
    }
}
