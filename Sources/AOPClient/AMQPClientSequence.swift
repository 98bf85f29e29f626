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
            // The direct path needs an actor running on the loop: the queue is touched in a continuation
            // body, which runs on the caller's isolation (nonisolated code could continue elsewhere).
            guard actor != nil, self.queue.loop.isCurrent else {
                return try await self.connection.pull(self.queue)
            }
            let queue = self.queue
            let connection = self.connection
            let token = WaitToken()
            let result = await withTaskCancellationHandler {
                await queue.nextResult(isolation: actor, token: token)
            } onCancel: {
                Task { await connection.cancelWaiter(queue, token: token) }
            }
            return try result.get()
        }

        public mutating func next() async throws(AMQPClientError) -> Element? {
            try await self.next(isolation: nil)
        }
    }
}
