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
