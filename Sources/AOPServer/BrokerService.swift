import AOPBroker
import AOPIO
public import AOPStorage
public import Logging
public import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Runs a broker behind a TCP listener on io_uring rings, as a swift-service-lifecycle `Service`.
///
/// Graceful shutdown (SIGTERM/SIGINT through the ServiceGroup): stop accepting, send connection.close 320
/// to every client, wait for the connections to end, then close storage and the rings.
public struct BrokerService: Service {
    public let configuration: ServerConfiguration
    public let logger: Logger
    let storage: any StorageEngine
    /// Called once the listener is bound, with the actual address and port (port 0 picks a free one).
    let onListening: @Sendable (String, UInt16) -> Void

    public init(configuration: ServerConfiguration, storage: any StorageEngine, logger: Logger,
                onListening: @escaping @Sendable (String, UInt16) -> Void = { _, _ in }) {
        self.configuration = configuration
        self.storage = storage
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let loops = try RingLoopGroup(loops: self.configuration.ioThreads, namePrefix: "aop-io")
        defer { loops.shutdown() }
        let broker = Broker(configuration: self.configuration.broker, storage: self.storage, logger: self.logger)
        try await broker.start()

        let listener = try TCPListener.bind(host: self.configuration.bind, port: self.configuration.port,
                                            group: loops)
        self.logger.notice("listening on \(self.configuration.bind):\(listener.localPort)")
        self.onListening(self.configuration.bind, listener.localPort)

        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                for await socket in listener.connections() {
                    group.addTask { await broker.serve(socket) }
                }
            } onGracefulShutdown: {
                listener.close()
            }
            self.logger.notice("shutting down: closing \(broker.connectionCount) connection(s)")
            await broker.shutdown(reason: "shutdown")
        }
        await self.storage.shutdown()
        self.logger.notice("stopped")
    }
}
