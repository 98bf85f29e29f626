public import AOPBroker
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
    let makeStorage: @Sendable (RingLoopGroup) async throws -> any StorageEngine
    /// Called once the listener is bound, with the actual address and port (port 0 picks a free one).
    let onListening: @Sendable (String, UInt16) -> Void
    /// Called once the broker has started (aop-server uses it to dump connection states on SIGUSR1).
    let onStarted: @Sendable (Broker) -> Void

    /// - Parameters:
    ///   - makeStorage: opens the storage engine; it gets a ring group of its own for file I/O.
    public init(configuration: ServerConfiguration, logger: Logger,
                makeStorage: @escaping @Sendable (RingLoopGroup) async throws -> any StorageEngine,
                onListening: @escaping @Sendable (String, UInt16) -> Void = { _, _ in },
                onStarted: @escaping @Sendable (Broker) -> Void = { _ in }) {
        self.configuration = configuration
        self.makeStorage = makeStorage
        self.logger = logger
        self.onListening = onListening
        self.onStarted = onStarted
    }

    public func run() async throws {
        let loops = try RingLoopGroup(loops: self.configuration.ioThreads, namePrefix: "aop-io")
        defer { loops.shutdown() }
        let storageLoops = try RingLoopGroup(loops: 1, namePrefix: "aop-storage")
        defer { storageLoops.shutdown() }
        let storage = try await self.makeStorage(storageLoops)
        // The vhost, exchange and queue actors run on the first io ring, with the connections it serves:
        // publish → route → enqueue → deliver hops are local enqueues there, not cross-thread wake-ups.
        let broker = Broker(configuration: self.configuration.broker, storage: storage, logger: self.logger,
                            executor: loops.loops[0])
        try await broker.start()
        self.onStarted(broker)

        let limit: UInt64
        switch self.configuration.memoryHighWatermark {
        case .absolute(let bytes): limit = bytes
        case .relative(let fraction): limit = UInt64(Double(MemoryMonitor.physicalMemory()) * fraction)
        }
        let monitor = Task { await MemoryMonitor(limitBytes: limit, interval: .seconds(1)).run(broker: broker, logger: self.logger) }
        defer { monitor.cancel() }
        // Freed heap memory back to the system once it is large (a consumed backlog, a departed crowd).
        let trimmer = Task { await HeapTrimmer(interval: .seconds(5)).run(logger: self.logger) }
        defer { trimmer.cancel() }

        let listener = try TCPListener.bind(host: self.configuration.bind, port: self.configuration.port,
                                            group: loops)
        if self.configuration.socketFaults.isActive {
            listener.socketFaults = self.configuration.socketFaults
            self.logger.warning("injecting socket faults (stress testing): \(self.configuration.socketFaults)")
        }
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
        await storage.shutdown()
        if let disk = storage as? DiskStorageEngine {
            let s = disk.statistics()
            self.logger.notice("storage statistics", metadata: [
                "commitRounds": "\(s.commitRounds)", "fileSyncs": "\(s.fileSyncs)",
                "commitMicroseconds": "\(s.commitMicroseconds)",
                "entriesAppended": "\(s.entriesAppended)", "appendWrites": "\(s.appendWrites)",
                "tailCacheHits": "\(s.tailCacheHits)", "corruptEntries": "\(s.corruptEntries)",
                "commitWaits": "\(s.commitWaits)", "commitWaitMicroseconds": "\(s.commitWaitMicroseconds)",
                "preallocatedBytes": "\(s.preallocatedBytes)",
            ])
        }
        self.logger.notice("stopped")
    }
}
