/// A consumer started with `basicConsume`. Its sequences end at `cancel-ok`, at a server `basic.cancel`,
/// or when the channel closes (with the channel's error when the server closed it). Read either
/// `deliveries` or `batches`, with one iterator.
public final class AMQPClientConsumer: Sendable {
    public let channel: AMQPClientChannel
    public let tag: String
    let queue: LoopQueue<AMQPDeliveryBatch>

    init(channel: AMQPClientChannel, tag: String, queue: LoopQueue<AMQPDeliveryBatch>) {
        self.channel = channel
        self.tag = tag
        self.queue = queue
    }

    /// The deliveries, one batch per socket read: the fast path (no per-message allocation).
    public var batches: AMQPClientSequence<AMQPDeliveryBatch> {
        AMQPClientSequence(queue: self.queue, connection: self.channel.connection)
    }

    /// The deliveries one by one (each materialized from its batch).
    public var deliveries: AMQPDeliveries { AMQPDeliveries(batches: self.batches) }

    /// `basic.cancel` for this consumer (see ``AMQPClientChannel/basicCancel(_:)``).
    nonisolated(nonsending) public func cancel() async throws(AMQPClientError) {
        try await self.channel.basicCancel(self.tag)
    }
}
