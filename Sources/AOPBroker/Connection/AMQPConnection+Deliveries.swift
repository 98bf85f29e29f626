import AOPIO
import Logging
import AOPWire

extension AMQPConnection {
    /// Writes deliveries parked by queues (in batches), and handles server-side consumer cancellation.
    func drainInbox() async {
        guard !self.draining else { return }
        guard !self.methodInFlight else {
            self.drainDeferred = true
            return
        }
        self.draining = true
        defer { self.draining = false }
        while true {
            let items = self.inbox.take()
            if items.isEmpty { return }
            var toRequeue: [Delivery] = []
            for item in items {
                switch item {
                case .deliveries(let id, let batch):
                    self.write(batch, channel: id, requeue: &toRequeue)
                case .cancelled(let id, let tag):
                    self.serverCancelled(channel: id, tag: tag)
                }
            }
            self.flush()
            await self.requeue(toRequeue)
            if self.closed { return }
            // Backpressure: a client that does not read makes us stop here; the transit credit of the
            // deliveries then stops the queues.
            if self.socket.pendingOutboundBytes > self.broker.configuration.outboundHighWatermark {
                await self.socket.waitUntilWritable(threshold: self.broker.configuration.outboundHighWatermark / 2)
            }
            await self.releaseTransitCredit()
        }
    }

    /// Writes a queue's batch for one channel: `write(_:channel:)` for each, with the channel and consumer
    /// looked up once per run of deliveries to the same consumer (a batch usually has one).
    func write(_ batch: [Delivery], channel id: UInt16, requeue: inout [Delivery]) {
        guard let channel = self.channels[id], case .open = channel.state else {
            requeue.append(contentsOf: batch)
            return
        }
        let frameMax = self.tuning.frameMax
        // The current run's consumer, as plain fields: binding the `Channel.Consumer` per delivery copied it
        // (a retain and release of its tag, queue and credit gate for every message).
        var lastTag: String?
        var found = false
        var ready = false
        var noAck = false
        var credit: CreditGate?
        var written = 0
        func countWritten(_ conn: isolated AMQPConnection) {
            guard written > 0, let gate = credit else { return }
            conn.transmittedSinceRelease[ObjectIdentifier(gate), default: (gate, 0)].1 += written
            written = 0
        }
        let flowActive = channel.flowActive
        // Indexed, not `for delivery in batch`: each element is read in place instead of copied out
        // (a copy retains and releases its tag, queue and message).
        for i in batch.indices {
            if batch[i].consumerTag != lastTag {
                countWritten(self)
                lastTag = batch[i].consumerTag
                if let consumer = channel.consumers[batch[i].consumerTag] {
                    (found, ready, noAck, credit) = (true, consumer.ready, consumer.noAck, consumer.credit)
                } else {
                    (found, ready, noAck, credit) = (false, false, false, nil)
                }
            }
            guard found else {
                requeue.append(batch[i])
                continue
            }
            if !ready || !flowActive {
                channel.heldDeliveries.append(batch[i])
                continue
            }
            let tag = channel.takeDeliveryTag()
            written += 1
            if !noAck {
                channel.recordUnacked(tag: tag, .init(queue: batch[i].queue, deliveryID: batch[i].deliveryID,
                                                      credit: credit))
            }
            batch[i].message.writeDeliver(into: &self.out, channel: id, consumerTag: batch[i].consumerTag,
                                          deliveryTag: tag, redelivered: batch[i].redelivered, frameMax: frameMax)
        }
        countWritten(self)
    }

    /// Writes one delivery; false when it must go back to its queue (channel or consumer gone).
    /// Deliveries held by flow control or an unannounced consumer stay with the channel.
    func write(_ delivery: Delivery, channel id: UInt16) -> Bool {
        guard let channel = self.channels[id], case .open = channel.state,
              let consumer = channel.consumers[delivery.consumerTag]
        else { return false }
        if !consumer.ready || !channel.flowActive {
            channel.heldDeliveries.append(delivery)
            self.channels[id] = channel
            return true
        }
        let tag = channel.takeDeliveryTag()
        self.transmittedSinceRelease[ObjectIdentifier(consumer.credit), default: (consumer.credit, 0)].1 += 1
        if !consumer.noAck {
            channel.recordUnacked(tag: tag, .init(queue: delivery.queue, deliveryID: delivery.deliveryID, credit: consumer.credit))
        }
        self.channels[id] = channel
        delivery.message.writeDeliver(into: &self.out, channel: id, consumerTag: delivery.consumerTag,
                                      deliveryTag: tag, redelivered: delivery.redelivered,
                                      frameMax: self.tuning.frameMax)
        return true
    }

    /// Returns the transit credit of deliveries written to the socket, and wakes their queues.
    func releaseTransitCredit() async {
        guard !self.transmittedSinceRelease.isEmpty else { return }
        for (_, (gate, count)) in self.transmittedSinceRelease { gate.transmitted(count) }
        // An array, not a dictionary: a connection's consumers read from few queues, and this runs after
        // every drained batch (two dictionaries allocated per batch before).
        // (A set too once there are many, so that many consumers do not make this quadratic.)
        var queues: [MessageQueue] = []
        var seen: Set<ObjectIdentifier> = []
        for channel in self.channels.values {
            for consumer in channel.consumers.values
            where self.transmittedSinceRelease[ObjectIdentifier(consumer.credit)] != nil {
                let queue = consumer.queue
                if queues.count < 8 {
                    if !queues.contains(where: { $0 === queue }) { queues.append(queue) }
                } else {
                    if seen.isEmpty { seen = Set(queues.map { ObjectIdentifier($0) }) }
                    if seen.insert(ObjectIdentifier(queue)).inserted { queues.append(queue) }
                }
            }
        }
        // Cleared before the first suspension (deliveries written meanwhile count towards the next
        // release), keeping its storage for the next batch.
        self.transmittedSinceRelease.removeAll(keepingCapacity: true)
        for queue in queues { await queue.creditAvailable() }
    }

    /// Writes deliveries held while flow was off or the consumer was not announced yet.
    func releaseHeld(channel id: UInt16) async {
        guard let channel = self.channels[id], !channel.heldDeliveries.isEmpty else { return }
        let held = channel.heldDeliveries
        channel.heldDeliveries.removeAll()
        self.channels[id] = channel
        var toRequeue: [Delivery] = []
        for d in held where !self.write(d, channel: id) { toRequeue.append(d) }
        self.flush()
        await self.requeue(toRequeue)
        await self.releaseTransitCredit()
    }

    /// After teardown: requeues whatever queues parked in the inbox (nothing drains it any more).
    func requeueInbox() async {
        var unwritten: [Delivery] = []
        for case .deliveries(_, let batch) in self.inbox.take() { unwritten += batch }
        await self.requeue(unwritten)
    }

    /// Sends deliveries back to their queues (consumer gone before they were written).
    func requeue(_ deliveries: [Delivery]) async {
        await self.settle(deliveries.lazy.map { ($0.queue, $0.deliveryID) }, .requeue)
    }

    /// The queue cancelled a consumer (queue deleted): basic.cancel to clients that support it.
    func serverCancelled(channel id: UInt16, tag: String) {
        guard self.channels[id]?.consumers.removeValue(forKey: tag) != nil else { return }
        if self.clientCapabilities["consumer_cancel_notify"]?.boolValue == true {
            self.send { $0.writeMethodFrame(channel: id, .basicCancel(BasicCancel(consumerTag: tag, noWait: true))) }
        }
    }
}
