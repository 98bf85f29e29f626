public import AOPWire

extension EmbeddedBroker {
    /// basic.consume: starts a consumer on `queue` and returns its deliveries as an `AsyncSequence`.
    ///
    /// At most `prefetch` deliveries are unsettled (or, with `autoAck`, buffered) at a time, so a slow
    /// iterator holds the queue back instead of growing memory. Cancelling the iterating task, dropping
    /// the iterator or calling ``EmbeddedConsumer/cancel()`` cancels the consumer and requeues its
    /// unsettled deliveries. Prefer ``withConsumer(queue:prefetch:autoAck:exclusive:priority:consumerTag:arguments:virtualHost:isolation:_:)``
    /// when the consumer's lifetime is a scope.
    /// - Parameters:
    ///   - queue: the queue to consume from.
    ///   - prefetch: unsettled deliveries at most (at least 1).
    ///   - autoAck: deliveries are settled when the queue hands them out (no-ack); nothing to settle.
    ///   - exclusive: the only consumer of the queue (403 if it has others, or others come later).
    ///   - priority: x-priority: higher-priority consumers get messages first.
    ///   - consumerTag: generated (`aop.embedded-N`) when nil.
    ///   - arguments: basic.consume arguments (`x-priority` is also read from here when `priority` is 0).
    ///   - virtualHost: the vhost (default `/`).
    /// - Throws: 404 unknown queue, 405 exclusive queue of a TCP connection, 403 exclusive use.
    public func consume(queue: String, prefetch: UInt32 = 100, autoAck: Bool = false, exclusive: Bool = false,
                        priority: Int32 = 0, consumerTag: String? = nil, arguments: FieldTable = [:],
                        virtualHost: String = "/") async throws(EmbeddedBrokerError) -> EmbeddedConsumer {
        let runtime = try self.runtime()
        let vhost = try runtime.virtualHost(virtualHost)
        let messageQueue: MessageQueue
        do {
            messageQueue = try await vhost.queue(named: queue, connectionID: EmbeddedRuntime.connectionID)
        } catch { throw EmbeddedBrokerError(error) }
        let tag = consumerTag ?? runtime.makeConsumerTag()
        let stream = ConsumerStream(queue: messageQueue, tag: tag, noAck: autoAck, prefetch: max(1, prefetch),
                                    runtime: runtime)
        guard runtime.register(stream) else { throw .notRunning }
        var effectivePriority = priority
        if priority == 0, let p = arguments["x-priority"]?.integerValue {
            guard let p32 = Int32(exactly: p) else {
                runtime.unregister(stream)
                throw EmbeddedBrokerError(AMQPError(.preconditionFailed, "invalid arg 'x-priority' for consumer"))
            }
            effectivePriority = p32
        }
        let registration = ConsumerRegistration(
            tag: tag, connectionID: EmbeddedRuntime.connectionID, noAck: autoAck, exclusive: exclusive,
            priority: effectivePriority, arguments: arguments, credit: stream.credit, sink: stream)
        do {
            try await messageQueue.consume(registration)
        } catch {
            runtime.unregister(stream)
            throw EmbeddedBrokerError(error)
        }
        return EmbeddedConsumer(stream: stream)
    }

    /// Runs `body` with a consumer and cancels it when `body` returns or throws, waiting until its
    /// unsettled deliveries are back in the queue. Parameters as for
    /// ``consume(queue:prefetch:autoAck:exclusive:priority:consumerTag:arguments:virtualHost:)``.
    public func withConsumer<Result>(
        queue: String, prefetch: UInt32 = 100, autoAck: Bool = false, exclusive: Bool = false,
        priority: Int32 = 0, consumerTag: String? = nil, arguments: FieldTable = [:], virtualHost: String = "/",
        isolation: isolated (any Actor)? = #isolation,
        _ body: (EmbeddedConsumer) async throws -> Result
    ) async throws -> Result {
        let consumer = try await self.consume(queue: queue, prefetch: prefetch, autoAck: autoAck, exclusive: exclusive,
                                              priority: priority, consumerTag: consumerTag, arguments: arguments,
                                              virtualHost: virtualHost)
        do {
            let result = try await body(consumer)
            await consumer.cancel()
            return result
        } catch {
            await consumer.cancel()
            throw error
        }
    }

    /// basic.get: takes the next ready message, or returns nil when the queue has none.
    /// - Parameters:
    ///   - queue: the queue to take from.
    ///   - autoAck: settle it at once; otherwise settle the returned delivery (unsettled ones are
    ///     requeued at shutdown).
    ///   - virtualHost: the vhost (default `/`).
    public func get(queue: String, autoAck: Bool = false,
                    virtualHost: String = "/") async throws(EmbeddedBrokerError) -> EmbeddedDelivery? {
        let runtime = try self.runtime()
        let vhost = try runtime.virtualHost(virtualHost)
        let delivery: Delivery?
        let messageQueue: MessageQueue
        do {
            messageQueue = try await vhost.queue(named: queue, connectionID: EmbeddedRuntime.connectionID)
            delivery = try await messageQueue.get(noAck: autoAck)
        } catch { throw EmbeddedBrokerError(error) }
        guard let delivery else { return nil }
        if autoAck { return EmbeddedDelivery(delivery, settler: nil) }
        runtime.gets.record(messageQueue, deliveryID: delivery.deliveryID)
        return EmbeddedDelivery(delivery, settler: GetSettler(ledger: runtime.gets, queue: messageQueue))
    }
}
