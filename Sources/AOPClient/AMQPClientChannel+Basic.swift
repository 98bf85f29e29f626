public import AOPWire

extension AMQPClientChannel {
    /// `basic.publish` with the message's header and body frames (split at frame-max).
    /// - Returns: the publish's sequence number in confirm mode (1, 2, …), 0 otherwise.
    /// Waits (without failing) while more than 4 MiB are queued for the socket.
    @discardableResult
    nonisolated(nonsending) public func basicPublish(
        exchange: String = "", routingKey: String, body: [UInt8], properties: BasicProperties = BasicProperties(),
        mandatory: Bool = false
    ) async throws(AMQPClientError) -> UInt64 {
        try await self.connection.publish(self, exchange: exchange, routingKey: routingKey, body: body,
                                          properties: properties, mandatory: mandatory)
    }

    /// Writes `count` publishes that were encoded beforehand (see ``AMQPPublishEncoder``, which must have
    /// been made for this channel's `id`) with one call and one copy.
    /// - Returns: the last publish's sequence number in confirm mode, 0 otherwise.
    @discardableResult
    nonisolated(nonsending) public func publish(encoded: [UInt8], count: Int) async throws(AMQPClientError) -> UInt64 {
        try await self.connection.publishBatch(self, encoded, count: count)
    }

    /// `basic.consume`: starts a consumer whose deliveries arrive through the returned handle's
    /// `deliveries` (per message) or `batches` (per read). An empty tag gets a generated one.
    nonisolated(nonsending) public func basicConsume(
        queue: String, tag: String = "", noAck: Bool = false, exclusive: Bool = false, arguments: FieldTable = [:]
    ) async throws(AMQPClientError) -> AMQPClientConsumer {
        try await self.connection.consume(self, BasicConsume(queue: queue, consumerTag: tag, noAck: noAck,
                                                             exclusive: exclusive, arguments: arguments))
    }

    /// `basic.cancel`: waits for `cancel-ok`. Deliveries that arrive before it still reach the consumer; its
    /// sequences end at `cancel-ok`.
    nonisolated(nonsending) public func basicCancel(_ consumerTag: String) async throws(AMQPClientError) {
        try await self.connection.cancelConsumer(self, tag: consumerTag)
    }

    /// `basic.get`: one message, or nil when the queue is empty.
    nonisolated(nonsending) public func basicGet(queue: String, noAck: Bool = false) async throws(AMQPClientError) -> AMQPDelivery? {
        let reply = try await self.connection.rpc(self, .basicGet(BasicGet(queue: queue, noAck: noAck)),
                                                  replies: [(60, 71), (60, 72)])
        guard case .delivery(let delivery) = reply else { return nil }
        return delivery
    }

    /// `basic.ack` (with `multiple`, every unacknowledged delivery up to the tag).
    nonisolated(nonsending) public func basicAck(deliveryTag: UInt64, multiple: Bool = false) async throws(AMQPClientError) {
        try await self.connection.sendWithoutReply(self, .basicAck(BasicAck(deliveryTag: deliveryTag, multiple: multiple)))
    }

    /// `basic.nack`: rejects one or (with `multiple`) several deliveries, requeued or dropped/dead-lettered.
    nonisolated(nonsending) public func basicNack(deliveryTag: UInt64, multiple: Bool = false, requeue: Bool = true)
        async throws(AMQPClientError)
    {
        try await self.connection.sendWithoutReply(self, .basicNack(BasicNack(deliveryTag: deliveryTag, multiple: multiple,
                                                                              requeue: requeue)))
    }

    /// `basic.reject`: rejects one delivery.
    nonisolated(nonsending) public func basicReject(deliveryTag: UInt64, requeue: Bool = true) async throws(AMQPClientError) {
        try await self.connection.sendWithoutReply(self, .basicReject(BasicReject(deliveryTag: deliveryTag, requeue: requeue)))
    }

    /// `basic.recover`: redeliver (`requeue: true`, RabbitMQ's only mode) every unacknowledged delivery.
    nonisolated(nonsending) public func basicRecover(requeue: Bool = true) async throws(AMQPClientError) {
        _ = try await self.connection.rpc(self, .basicRecover(BasicRecover(requeue: requeue)), replies: [(60, 111)])
    }
}
