public import Logging

extension EmbeddedBroker {
    /// Starts a broker, runs `body` with it and shuts it down when `body` returns or throws (consumers
    /// end, unsettled deliveries are requeued, storage is closed) before returning.
    ///
    /// ```swift
    /// try await EmbeddedBroker.with(configuration: .init(storage: .directory("/var/lib/app/queue"))) { broker in
    ///     try await broker.declareQueue("jobs")
    ///     try await broker.publish(Array("hello".utf8), routingKey: "jobs")
    /// }
    /// ```
    public static func with<Result>(
        configuration: EmbeddedConfiguration = EmbeddedConfiguration(),
        logger: Logger = Logger(label: "aop.embedded", factory: { _ in SwiftLogNoOpLogHandler() }),
        isolation: isolated (any Actor)? = #isolation,
        _ body: (EmbeddedBroker) async throws -> Result
    ) async throws -> Result {
        let broker = EmbeddedBroker(configuration: configuration, logger: logger)
        do {
            try await broker.start()
            let result = try await body(broker)
            await broker.shutdown()
            return result
        } catch {
            await broker.shutdown()
            throw error
        }
    }
}
