import AOPIO
/// An async sequence fed by a connection's reader: confirms, returned messages, blocked notifications,
/// delivery batches. One iterator at a time.
///
/// Iterating from code isolated to an actor on the connection's ring loop costs no thread hop; from
/// anywhere else each `next()` that has to wait hops to the loop and back.
public struct AMQPClientSequence<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Failure = AMQPClientError
    let queue: LoopQueue<Element>
    let connection: AMQPClientConnection

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(queue: self.queue, connection: self.connection)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Failure = AMQPClientError
        let queue: LoopQueue<Element>
        let connection: AMQPClientConnection

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(AMQPClientError) -> Element? {
            guard self.queue.loop.isCurrent else {
                return try await self.connection.pull(self.queue)
            }
            let queue = self.queue
            let connection = self.connection
            let result = await withTaskCancellationHandler {
                await queue.nextResult(isolation: actor)
            } onCancel: {
                Task { await connection.cancelWaiter(queue) }
            }
            return try result.get()
        }

        public mutating func next() async throws(AMQPClientError) -> Element? {
            try await self.next(isolation: nil)
        }
    }
}

extension AMQPClientConnection {
    /// Runs `queue.next` on the loop for a caller elsewhere.
    func pull<Element: Sendable>(_ queue: LoopQueue<Element>) async throws(AMQPClientError) -> Element? {
        let result = await withTaskCancellationHandler {
            await queue.nextResult(isolation: self)
        } onCancel: {
            Task { await self.cancelWaiter(queue) }
        }
        return try result.get()
    }

    func cancelWaiter<Element: Sendable>(_ queue: LoopQueue<Element>) {
        queue.cancelWaiter()
    }
}
