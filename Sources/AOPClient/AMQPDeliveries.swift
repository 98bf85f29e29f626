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
