public import ServiceLifecycle

extension EmbeddedBroker: Service {
    /// Runs the broker as a swift-service-lifecycle `Service`: starts it, waits for graceful shutdown (or
    /// cancellation), then shuts it down. Other services that use the broker can `try await broker.start()`
    /// first: it joins the same start.
    public func run() async throws {
        try await self.start()
        // Throws CancellationError when the task is cancelled instead: shut down either way.
        try? await gracefulShutdown()
        await self.shutdown()
    }
}
