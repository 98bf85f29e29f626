import AOPBroker
import AOPIO
import AOPStorage
import AOPWire
import Logging
import Synchronization

/// Everything a started ``EmbeddedBroker`` owns: storage and its ring, the broker, the TCP listeners with
/// their accept tasks, and the live consumers shutdown must end.
final class EmbeddedRuntime: Sendable {
    /// Connection id of the in-process side. `Broker` numbers TCP connections upwards from 1, so the top
    /// half of the id space never collides with them: exclusive queues declared in-process belong to this
    /// id (usable by every in-process caller, refused to TCP clients with 405 RESOURCE_LOCKED).
    static let connectionID: UInt64 = 1 << 63

    struct Tracking {
        var consumers: [ObjectIdentifier: ConsumerStream] = [:]
        var closed = false
        var nextTag: UInt64 = 1
    }

    let broker: Broker
    let storage: any StorageEngine
    let storageLoops: RingLoopGroup?
    let ioLoops: RingLoopGroup?
    let listeners: [TCPListener]
    let acceptTasks: [Task<Void, Never>]
    let gets: GetLedger
    let tracking = Mutex(Tracking())

    private init(broker: Broker, storage: any StorageEngine, storageLoops: RingLoopGroup?, ioLoops: RingLoopGroup?,
                 listeners: [TCPListener], acceptTasks: [Task<Void, Never>]) {
        self.broker = broker
        self.storage = storage
        self.storageLoops = storageLoops
        self.ioLoops = ioLoops
        self.listeners = listeners
        self.acceptTasks = acceptTasks
        self.gets = GetLedger()
    }

    var listenerPorts: [UInt16] { self.listeners.map(\.localPort) }

    /// Opens storage, starts the broker (loading durable definitions) and binds the listeners.
    static func open(_ configuration: EmbeddedConfiguration, logger: Logger) async throws(EmbeddedBrokerError)
        -> EmbeddedRuntime {
        var storageLoops: RingLoopGroup?
        var ioLoops: RingLoopGroup?
        var storage: (any StorageEngine)?
        var listeners: [TCPListener] = []
        func fail(_ what: String, _ error: any Error) async -> EmbeddedBrokerError {
            for l in listeners { l.close() }
            await storage?.shutdown()
            ioLoops?.shutdown()
            storageLoops?.shutdown()
            return EmbeddedBrokerError(kind: .startFailed, replyCode: AMQPError.Code.internalError.replyCode,
                                       message: "\(what): \(error)")
        }
        do {
            switch configuration.storage {
            case .inMemory:
                storage = InMemoryStorageEngine()
            case .directory(let path):
                let loops = try RingLoopGroup(loops: 1, namePrefix: "aop-embedded-storage")
                storageLoops = loops
                var options = DiskStorageOptions()
                // Off as in aop-server (Sources/aop-server/Storage.swift): the tail cache over
                // URingFileSystem is under investigation.
                options.tailCacheBytes = 0
                var storageLogger = logger
                storageLogger[metadataKey: "component"] = "storage"
                storage = try await DiskStorageEngine(directory: path, fileSystem: URingFileSystem(group: loops),
                                                      options: options, logger: storageLogger)
            }
        } catch {
            throw await fail("cannot open storage", error)
        }
        do {
            if !configuration.listeners.isEmpty {
                ioLoops = try RingLoopGroup(loops: max(1, configuration.ioThreads), namePrefix: "aop-embedded-io")
            }
        } catch {
            throw await fail("cannot open listener", error)
        }
        // As in aop-server (BrokerService): the vhost, exchange and queue actors run on the first io ring,
        // with the connections it serves, so publish → route → enqueue → deliver stays on one thread.
        let broker = Broker(configuration: configuration.broker, storage: storage!, logger: logger,
                            executor: ioLoops?.loops[0])
        do {
            try await broker.start()
        } catch {
            throw await fail("cannot start broker", error)
        }
        do {
            if let loops = ioLoops {
                for l in configuration.listeners {
                    listeners.append(try TCPListener.bind(host: l.host, port: l.port, group: loops))
                }
            }
        } catch {
            throw await fail("cannot open listener", error)
        }
        let acceptTasks = listeners.map { listener in
            Task {
                await withDiscardingTaskGroup { group in
                    for await socket in listener.connections() {
                        group.addTask { await broker.serve(socket) }
                    }
                }
            }
        }
        for l in listeners { logger.notice("embedded broker listening on port \(l.localPort)") }
        return EmbeddedRuntime(broker: broker, storage: storage!, storageLoops: storageLoops, ioLoops: ioLoops,
                               listeners: listeners, acceptTasks: acceptTasks)
    }

    func virtualHost(_ name: String) throws(EmbeddedBrokerError) -> VirtualHost {
        guard let vhost = self.broker.virtualHosts[name] else {
            throw EmbeddedBrokerError(AMQPError(.notAllowed, "vhost '\(name)' not found"))
        }
        return vhost
    }

    /// A consumer tag unique within this broker's in-process side.
    func makeConsumerTag() -> String {
        let n = self.tracking.withLock { t in
            defer { t.nextTag += 1 }
            return t.nextTag
        }
        return "aop.embedded-\(n)"
    }

    /// Registers a live consumer; false once shutdown has begun.
    func register(_ consumer: ConsumerStream) -> Bool {
        self.tracking.withLock { t in
            guard !t.closed else { return false }
            t.consumers[ObjectIdentifier(consumer)] = consumer
            return true
        }
    }

    func unregister(_ consumer: ConsumerStream) {
        _ = self.tracking.withLock { $0.consumers.removeValue(forKey: ObjectIdentifier(consumer)) }
    }

    /// Stops the listeners, closes TCP connections (320), ends every consumer (unacked deliveries are
    /// requeued), gives back basic.get deliveries, deletes in-process exclusive queues, closes storage.
    func shutdown() async {
        for l in self.listeners { l.close() }
        await self.broker.shutdown(reason: "shutdown")
        let consumers = self.tracking.withLock { t in
            t.closed = true
            return Array(t.consumers.values)
        }
        // Consumers that are ending already (cancelled) stay registered until their requeue is done, so
        // this also waits for those.
        for c in consumers { await c.finish(.shutdown).value }
        await self.gets.requeueAll()
        for vhost in self.broker.virtualHosts.values {
            await vhost.connectionClosed(connectionID: Self.connectionID)
        }
        for t in self.acceptTasks { await t.value }
        await self.storage.shutdown()
        self.ioLoops?.shutdown()
        self.storageLoops?.shutdown()
    }
}
