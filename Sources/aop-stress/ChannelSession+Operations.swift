import Synchronization
import AOPClient
import AOPStress
import AOPWire

extension ChannelSession {
    /// Executes one operation of the stream.
    mutating func execute(_ operation: StressOperation, group: inout TaskGroup<Bool>) async throws(AMQPClientError)
        -> Outcome
    {
        let topology = self.context.topology
        switch operation {
        case .publish(let exchange, let routingKey, let count, let mandatory, let persistent):
            try await self.publish(exchange: exchange, routingKey: routingKey, count: count, mandatory: mandatory,
                                   persistent: persistent)
        case .consume(let ref, let noAck, let policy, _):
            let queue = self.context.queueName(ref)
            self.consumerCount += 1
            let tag = "c\(self.shared.id).\(self.consumerCount)"
            let consumer = try await self.channel.basicConsume(queue: queue, tag: tag, noAck: noAck)
            self.consumers.append(ConsumerInfo(consumer: consumer, queue: queue))
            let (context, shared) = (self.context, self.shared)
            self.readerCount += 1
            group.addTask {
                await Self.readDeliveries(consumer, queue: queue, noAck: noAck, policy: policy, shared: shared,
                                          context: context)
                return false
            }
        case .cancel(let pick):
            guard !self.consumers.isEmpty else { break }
            let info = self.consumers.remove(at: pick % self.consumers.count)
            try await info.consumer.cancel()
        case .get(let ref, let noAck):
            let queue = self.context.queueName(ref)
            let delivery: AMQPDelivery?
            do {
                delivery = try await self.channel.basicGet(queue: queue, noAck: noAck)
            } catch {
                if noAck, case .stable = ref, error.code != .channelClosedByServer {
                    // A get-ok in flight when the connection died is lost without a trace.
                    self.context.log.record(.lossAllowed(queue: queue, reason: "no-ack basic.get failed: \(error.code)"))
                }
                throw error
            }
            if let delivery {
                self.context.recordDelivery(body: delivery.body, queue: queue, channel: self.shared.id,
                                            consumerTag: nil, deliveryTag: delivery.deliveryTag,
                                            redelivered: delivery.redelivered)
                if !noAck {
                    let policy: StressOperation.SettlePolicy = self.random.chance(0.5) ? .ackEach : .hold
                    self.shared.inbox.withLock { $0.append(PendingSettle(tag: delivery.deliveryTag, policy: policy)) }
                }
            }
        case .settle(let settlement, let multiple, let pick):
            guard !self.held.isEmpty else { break }
            let tag = self.held[pick % self.held.count]
            if multiple {
                self.held.removeAll { $0 <= tag }
                self.settledUpTo = max(self.settledUpTo, tag)
            } else {
                self.held.removeAll { $0 == tag }
            }
            try await self.settle(tag, settlement, multiple: multiple)
        case .recover:
            // Everything unacked comes back (flagged redelivered): forget what we held.
            self.held.removeAll()
            self.settledUpTo = max(self.settledUpTo, self.highestTag)
            try await self.channel.basicRecover(requeue: true)
        case .qos(let prefetch, let global):
            try await self.channel.basicQos(prefetchCount: prefetch, global: global)
        case .declareExchange(let i):
            try await self.channel.exchangeDeclare(topology.churnExchange(i), type: topology.churnExchangeType(i))
        case .deleteExchange(let i):
            try await self.channel.exchangeDelete(topology.churnExchange(i))
        case .declareQueue(let i):
            _ = try await self.channel.queueDeclare(topology.churnQueue(i))
        case .deleteQueue(let i):
            _ = try await self.channel.queueDelete(topology.churnQueue(i))
        case .bind(let queue, let exchange, let routingKey):
            try await self.channel.queueBind(topology.churnQueue(queue), exchange: exchange, routingKey: routingKey)
        case .unbind(let queue, let exchange, let routingKey):
            try await self.channel.queueUnbind(topology.churnQueue(queue), exchange: exchange, routingKey: routingKey)
        case .closeChannel:
            try await self.channel.close()
            return .channelClosed
        case .closeConnection:
            return .exit(.connection(.close))
        case .abortConnection:
            return .exit(.connection(.abort))
        }
        return .next
    }

    /// Publishes `count` stamped messages (recorded before they are sent).
    mutating func publish(exchange: String, routingKey: String, count: Int, mandatory: Bool, persistent: Bool)
        async throws(AMQPClientError)
    {
        let properties = BasicProperties(deliveryMode: persistent ? 2 : 1)
        for _ in 0..<count {
            self.sequence += 1
            let id = MessageID(producer: self.shared.producer, sequence: self.sequence)
            self.context.log.record(.published(PublishRecord(id: id, exchange: exchange, routingKey: routingKey,
                                                             mandatory: mandatory, confirmMode: self.confirmMode)))
            if self.confirmMode {
                self.publishSequence += 1
                let expected = self.publishSequence
                self.shared.confirms.withLock { $0.pending[expected] = id }
            }
            let filler = Int(self.random.next() % UInt64(self.context.options.bodySize + 1))
            let body = MessageStamp.encode(run: self.context.runID, id: id, fillerLength: filler)
            let number = try await self.channel.basicPublish(exchange: exchange, routingKey: routingKey, body: body,
                                                             properties: properties, mandatory: mandatory)
            if self.confirmMode, number != self.publishSequence {
                self.context.stats.clientError("publish sequence \(number), expected \(self.publishSequence)")
            }
        }
        if self.confirmMode, self.shared.confirms.withLock({ $0.pending.count }) > 2000 {
            try await self.channel.waitForConfirms(outstandingBelow: 1000)
        }
    }

    /// Settles what consumers and gets left in the inbox, by each delivery's policy.
    mutating func pump() async throws(AMQPClientError) {
        for pending in self.shared.takeInbox() {
            self.highestTag = max(self.highestTag, pending.tag)
            guard pending.tag > self.settledUpTo else { continue }   // covered by a multiple or a recover
            switch pending.policy {
            case .ackEach:
                try await self.channel.basicAck(deliveryTag: pending.tag)
            case .hold:
                self.held.append(pending.tag)
            case .mixed:
                switch self.random.int(in: 0...99) {
                case 0..<70: try await self.channel.basicAck(deliveryTag: pending.tag)
                case 70..<78: try await self.settle(pending.tag, .nack(requeue: true), multiple: false)
                case 78..<86: try await self.settle(pending.tag, .reject(requeue: true), multiple: false)
                case 86..<92: try await self.settle(pending.tag, .reject(requeue: false), multiple: false)
                default: self.held.append(pending.tag)
                }
            }
        }
    }

    func settle(_ tag: UInt64, _ settlement: StressOperation.Settlement, multiple: Bool) async throws(AMQPClientError) {
        switch settlement {
        case .ack: try await self.channel.basicAck(deliveryTag: tag, multiple: multiple)
        case .nack(let requeue): try await self.channel.basicNack(deliveryTag: tag, multiple: multiple, requeue: requeue)
        case .reject(let requeue): try await self.channel.basicReject(deliveryTag: tag, requeue: requeue)
        }
    }

    /// Records a consumer's deliveries; ack-mode ones go to the inbox for the operation loop.
    static func readDeliveries(_ consumer: AMQPClientConsumer, queue: String, noAck: Bool,
                               policy: StressOperation.SettlePolicy, shared: SessionShared, context: RunContext) async {
        var lastTag: UInt64 = 0
        do {
            for try await delivery in consumer.deliveries {
                if delivery.deliveryTag <= lastTag {
                    context.stats.clientError("consumer \(consumer.tag): delivery tag \(delivery.deliveryTag) after \(lastTag) (deliveries reordered by the client)")
                }
                lastTag = max(lastTag, delivery.deliveryTag)
                context.recordDelivery(body: delivery.body, queue: queue, channel: shared.id,
                                       consumerTag: consumer.tag, deliveryTag: delivery.deliveryTag,
                                       redelivered: delivery.redelivered)
                if !noAck {
                    shared.inbox.withLock { $0.append(PendingSettle(tag: delivery.deliveryTag, policy: policy)) }
                }
            }
        } catch {
            // The channel or connection closed: the consumer is over.
        }
        if context.options.trace { stderr("[ch \(shared.id)] consumer \(consumer.tag) reader ended\n") }
    }

    static func readConfirms(_ confirms: AMQPClientSequence<AMQPConfirm>, shared: SessionShared,
                             context: RunContext) async {
        do {
            for try await confirm in confirms {
                let ids = shared.confirms.withLock { $0.settle(confirm.deliveryTag, multiple: confirm.multiple) }
                context.log.record(ids.map { .confirmed($0, ack: confirm.ack) })
            }
            if context.options.trace { stderr("[ch \(shared.id)] confirm reader ended normally, cancelled: \(Task.isCancelled)\n") }
        } catch {
            if context.options.trace { stderr("[ch \(shared.id)] confirm reader ended: \(error)\n") }
        }
    }

    static func readReturns(_ returns: AMQPClientSequence<AMQPReturnedMessage>, shared: SessionShared,
                            context: RunContext) async {
        defer { if context.options.trace { stderr("[ch \(shared.id)] returns reader ended\n") } }
        do {
            for try await returned in returns {
                if case .message(let run, let id) = MessageStamp.decode(returned.body), run == context.runID {
                    context.log.record(.returned(id))
                }
            }
        } catch {}
    }
}
