extension AMQPClientConnection {
    /// Runs `queue.next` on the loop for a caller elsewhere.
    func pull<Element: Sendable>(_ queue: LoopQueue<Element>) async throws(AMQPClientError) -> Element? {
        let token = WaitToken()
        let result = await withTaskCancellationHandler {
            await queue.nextResult(isolation: self, token: token)
        } onCancel: {
            Task { await self.cancelWaiter(queue, token: token) }
        }
        return try result.get()
    }

    func cancelWaiter<Element: Sendable>(_ queue: LoopQueue<Element>, token: WaitToken) {
        queue.cancelWaiter(token)
    }
}
