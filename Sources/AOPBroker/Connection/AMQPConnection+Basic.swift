import AOPIO
import Logging
import AOPWire

extension AMQPConnection {
    func handleBasicMethod(channel id: UInt16, _ method: AMQPMethod) async throws(AMQPError) {
        switch method {
        case .basicQos(let m):
            // RabbitMQ does not implement prefetch-size.
            if m.prefetchSize != 0 {
                throw AMQPError(.notImplemented, "prefetch_size!=0 (\(m.prefetchSize))")
            }
            if m.global {
                self.channels[id]?.channelCredit.setLimit(UInt32(m.prefetchCount))
                await self.wakeQueues(channel: id)
            } else {
                self.channels[id]?.consumerPrefetch = UInt32(m.prefetchCount)
            }
            self.send { $0.writeMethodFrame(channel: id, .basicQosOk(BasicQosOk())) }

        case .basicConsume(let m):
            try await self.consume(channel: id, m)

        case .basicCancel(let m):
            if let consumer = self.channels[id]?.consumers.removeValue(forKey: m.consumerTag) {
                await consumer.queue.cancel(consumerTag: m.consumerTag)
            }
            if !m.noWait {
                self.send { $0.writeMethodFrame(channel: id, .basicCancelOk(BasicCancelOk(consumerTag: m.consumerTag))) }
            }

        case .basicGet(let m):
            let vhost = try self.requireVirtualHost()
            let queue = try await vhost.queue(named: m.queue, connectionID: self.id)
            let delivery = try await queue.get(noAck: m.noAck)
            guard self.channels[id] != nil else {
                if let delivery, !m.noAck { await queue.settle([delivery.deliveryID], .requeue) }
                return
            }
            if let delivery {
                let tag = self.channels[id]!.takeDeliveryTag()
                if !m.noAck {
                    self.channels[id]!.recordUnacked(tag: tag, .init(queue: queue, deliveryID: delivery.deliveryID, credit: nil))
                }
                let frameMax = self.tuning.frameMax
                self.send {
                    $0.writeMethodFrame(channel: id, .basicGetOk(BasicGetOk(
                        deliveryTag: tag, redelivered: delivery.redelivered, exchange: delivery.message.exchange,
                        routingKey: delivery.message.routingKey, messageCount: delivery.messageCount
                    )))
                    $0.writeContent(channel: id, properties: delivery.message.properties,
                                    body: delivery.message.body, frameMax: frameMax)
                }
            } else {
                self.send { $0.writeMethodFrame(channel: id, .basicGetEmpty(BasicGetEmpty())) }
            }

        case .basicAck(let m):
            try await self.settleTags(channel: id, tag: m.deliveryTag, multiple: m.multiple, .ack)
        case .basicNack(let m):
            try await self.settleTags(channel: id, tag: m.deliveryTag, multiple: m.multiple,
                                      m.requeue ? .requeue : .reject)
        case .basicReject(let m):
            try await self.settleTags(channel: id, tag: m.deliveryTag, multiple: false, m.requeue ? .requeue : .reject)

        case .basicRecover, .basicRecoverAsync:
            // RabbitMQ requeues every unacked delivery whatever `requeue` says: they are redelivered with
            // redelivered=true, possibly to another consumer.
            guard let channel = self.channels[id] else { return }
            let unacked = channel.takeAllUnacked()
            self.channels[id] = channel
            await self.settle(unacked.map { $0.1 }, .requeue)
            if case .basicRecover = method {
                self.send { $0.writeMethodFrame(channel: id, .basicRecoverOk(BasicRecoverOk())) }
            }
        default:
            preconditionFailure("not a basic method")
        }
    }

    func consume(channel id: UInt16, _ m: BasicConsume) async throws(AMQPError) {
        let vhost = try self.requireVirtualHost()
        guard let channel = self.channels[id] else { return }
        var tag = m.consumerTag
        if tag.isEmpty {
            tag = "amq.ctag-" + RandomName.make(length: 22)
        } else if channel.consumers[tag] != nil {
            throw AMQPError(.notAllowed, "attempt to reuse consumer tag '\(tag)'")
        }
        let queue = try await vhost.queue(named: m.queue, connectionID: self.id)
        let priority: Int32
        switch m.arguments["x-priority"] {
        case nil:
            priority = 0
        case let value?:
            guard let p = value.integerValue, p >= Int64(Int32.min), p <= Int64(Int32.max) else {
                throw AMQPError(.preconditionFailed, "invalid arg 'x-priority' for consumer")
            }
            priority = Int32(p)
        }
        let window = self.broker.configuration.transitWindow
        let credit: CreditGate
        if m.noAck {
            credit = CreditGate(consumerLimit: 0, channel: nil, unlimited: true, transitWindow: window)
        } else {
            credit = CreditGate(consumerLimit: channel.consumerPrefetch, channel: channel.channelCredit,
                                unlimited: false, transitWindow: window)
        }
        guard let current = self.channels[id], !current.released, !self.closed else { return }
        self.channels[id]!.consumers[tag] = .init(tag: tag, queue: queue, noAck: m.noAck, credit: credit, ready: false)
        let registration = ConsumerRegistration(
            tag: tag, connectionID: self.id, noAck: m.noAck, exclusive: m.exclusive, priority: priority,
            arguments: m.arguments, credit: credit, sink: channel.sink
        )
        do {
            try await queue.consume(registration)
        } catch {
            self.channels[id]?.consumers[tag] = nil
            throw error
        }
        guard !self.closed, let after = self.channels[id], !after.released, after.consumers[tag] != nil else {
            // The channel was closed (or the connection torn down) while the queue registered us: undo it,
            // or the consumer outlives its channel and holds its deliveries forever (found by aop-stress).
            if self.channels[id]?.consumers[tag] != nil { self.channels[id]!.consumers[tag] = nil }
            await queue.cancel(consumerTag: tag)
            if self.closed { await self.requeueInbox() }
            return
        }
        if !m.noWait {
            self.send { $0.writeMethodFrame(channel: id, .basicConsumeOk(BasicConsumeOk(consumerTag: tag))) }
        }
        self.channels[id]!.consumers[tag]!.ready = true
        await self.releaseHeld(channel: id)
    }

    /// ack / nack / reject of delivery tags; inside a transaction they wait for tx.commit.
    func settleTags(channel id: UInt16, tag: UInt64, multiple: Bool, _ settlement: Settlement) async throws(AMQPError) {
        guard let channel = self.channels[id] else { return }
        if channel.txMode {
            // Validate now (unknown tag is an error at once), settle at commit.
            guard let taken = channel.takeUnacked(tag: tag, multiple: multiple) else {
                throw AMQPError(.preconditionFailed, "unknown delivery tag \(tag)")
            }
            // Keep them unacked until commit: put them back, remember the tags.
            for (t, u) in taken { channel.recordUnacked(tag: t, u) }
            channel.unackedOrder = .init(channel.unackedOrder.sorted())
            channel.txSettlements.append(.init(tags: taken.map(\.0), settlement: settlement))
            self.channels[id] = channel
            return
        }
        guard let taken = channel.takeUnacked(tag: tag, multiple: multiple) else {
            throw AMQPError(.preconditionFailed, "unknown delivery tag \(tag)")
        }
        self.channels[id] = channel
        await self.settle(taken.map { $0.1 }, settlement)
        if settlement != .ack || taken.contains(where: { $0.1.credit != nil }) {
            await self.wakeQueues(channel: id)
        }
    }

    /// Settles deliveries with their queues (one hop per queue) and returns their consumer credit.
    func settle(_ deliveries: [Channel.Unacked], _ settlement: Settlement) async {
        for d in deliveries { d.credit?.settled(1) }
        await self.settle(deliveries.lazy.map { ($0.queue, $0.deliveryID) }, settlement)
    }

    /// Settles (queue, delivery id) pairs with one hop per queue, ids in the order given.
    func settle(_ pairs: some Sequence<(MessageQueue, UInt64)>, _ settlement: Settlement) async {
        var byQueue: [ObjectIdentifier: (MessageQueue, [UInt64])] = [:]
        for (queue, id) in pairs {
            byQueue[ObjectIdentifier(queue), default: (queue, [])].1.append(id)
        }
        for (_, (queue, ids)) in byQueue {
            await queue.settle(ids, settlement)
        }
    }

    /// Tells every queue this channel consumes from that credit may be available again.
    func wakeQueues(channel id: UInt16) async {
        guard let channel = self.channels[id] else { return }
        var seen: Set<ObjectIdentifier> = []
        for consumer in channel.consumers.values where seen.insert(ObjectIdentifier(consumer.queue)).inserted {
            await consumer.queue.creditAvailable()
        }
    }
}
