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

/// A consumer's deliveries one at a time, built on its batches.
public struct AMQPDeliveries: AsyncSequence, Sendable {
    public typealias Failure = AMQPClientError
    let batches: AMQPClientSequence<AMQPDeliveryBatch>

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(batches: self.batches.makeAsyncIterator())
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Failure = AMQPClientError
        var batches: AMQPClientSequence<AMQPDeliveryBatch>.AsyncIterator
        var current: AMQPDeliveryBatch?
        var index = 0

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(AMQPClientError) -> AMQPDelivery? {
            while true {
                if let batch = self.current, self.index < batch.count {
                    defer { self.index += 1 }
                    return batch[self.index]
                }
                guard let batch = try await self.batches.next(isolation: actor) else { return nil }
                self.current = batch
                self.index = 0
            }
        }

        public mutating func next() async throws(AMQPClientError) -> AMQPDelivery? {
            try await self.next(isolation: nil)
        }
    }
}
