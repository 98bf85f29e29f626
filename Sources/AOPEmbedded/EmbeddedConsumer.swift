/// The deliveries of one in-process consumer, in queue order, as an `AsyncSequence`.
///
/// Iterate it from one task. The sequence ends (returns nil) when the consumer is cancelled — by
/// ``cancel()``, by cancelling the iterating task, or by dropping the iterator (leaving a `for await`
/// loop) — or when the broker shuts down; it throws `.consumerCancelled` when the broker cancels the
/// consumer because its queue was deleted. Whenever it ends, every delivery not yet settled goes back to
/// the queue (redelivered), as when an AMQP channel closes.
public struct EmbeddedConsumer: AsyncSequence, Sendable {
    public typealias Element = EmbeddedDelivery
    public typealias Failure = EmbeddedBrokerError

    let stream: ConsumerStream

    /// The consumer tag (generated as `aop.embedded-N` unless given).
    public var tag: String { self.stream.tag }
    /// The queue consumed from.
    public var queue: String { self.stream.queue.name }

    /// Cancels the consumer and waits until its unsettled deliveries are back in the queue.
    public func cancel() async {
        await self.stream.finish(.cancelled).value
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(lifetime: IteratorLifetime(stream: self.stream))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Element = EmbeddedDelivery
        public typealias Failure = EmbeddedBrokerError

        let lifetime: IteratorLifetime

        public mutating func next() async throws(EmbeddedBrokerError) -> EmbeddedDelivery? {
            try await self.lifetime.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(EmbeddedBrokerError)
            -> EmbeddedDelivery? {
            try await self.lifetime.next()
        }
    }
}

/// Ends the consumer when the last copy of its iterator goes away.
final class IteratorLifetime: Sendable {
    let stream: ConsumerStream

    init(stream: ConsumerStream) { self.stream = stream }

    deinit { _ = self.stream.finish(.cancelled) }

    func next() async throws(EmbeddedBrokerError) -> EmbeddedDelivery? {
        guard let d = try await self.stream.next() else { return nil }
        return EmbeddedDelivery(d, settler: self.stream.noAck ? nil : self.stream)
    }
}
