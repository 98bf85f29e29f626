public import AOPIO
public import AOPStorage
public import AOPWire
public import Logging
import Synchronization

/// The broker: configuration, users, vhosts and live connections. `aop-server` and embedders create one,
/// `start()` it, hand it accepted sockets with `serve(_:)` and finally `shutdown(reason:)`.
public final class Broker: Sendable {
    public let configuration: BrokerConfiguration
    public let storage: any StorageEngine
    public let virtualHosts: [String: VirtualHost]
    public let alarms = Alarms()
    let authenticator: Authenticator
    let logger: Logger
    let serverProperties: FieldTable

    struct Registry {
        var nextID: UInt64 = 1
        var connections: [UInt64: AMQPConnection] = [:]
        var accepting = true
        /// `shutdown` waiting for the last connection to finish its teardown.
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }
    let registry = Mutex(Registry())
    /// True while a task polls the storage for free space (the disk alarm is on).
    let diskProbeRunning = Mutex(false)

    public static let version = "0.1.0"

    /// - Parameter executor: where the vhost, exchange and queue actors run (see `VirtualHost.init`);
    ///   `aop-server` passes its first io ring loop so publish → route → enqueue → deliver stays on it.
    public init(configuration: BrokerConfiguration, storage: any StorageEngine, logger: Logger,
                executor: (any SerialExecutor)? = nil) {
        self.configuration = configuration
        self.storage = storage
        self.logger = logger
        self.authenticator = Authenticator(configuration: configuration)
        var vhosts: [String: VirtualHost] = [:]
        for name in configuration.virtualHosts {
            var vlogger = logger
            vlogger[metadataKey: "vhost"] = "\(name)"
            vhosts[name] = VirtualHost(name: name, storage: storage, logger: vlogger, executor: executor)
        }
        self.virtualHosts = vhosts
        self.serverProperties = Self.makeServerProperties(clusterName: configuration.clusterName)
    }

    /// Capabilities advertised in connection.start: only what is implemented.
    static func makeServerProperties(clusterName: String) -> FieldTable {
        let capabilities: FieldTable = [
            "publisher_confirms": true,
            "exchange_exchange_bindings": true,
            "basic.nack": true,
            "consumer_cancel_notify": true,
            "connection.blocked": true,
            "consumer_priorities": true,
            "authentication_failure_close": true,
            "per_consumer_qos": true,
        ]
        return [
            "product": "aop",
            "version": .string(Self.version),
            "platform": "Swift",
            "cluster_name": .string(clusterName),
            "copyright": "aop contributors",
            "information": "AMQP 0-9-1 on a Pulsar-style log",
            "capabilities": .table(capabilities),
        ]
    }

    /// Loads every vhost's durable definitions.
    public func start() async throws(AMQPError) {
        for vhost in self.virtualHosts.values {
            try await vhost.start()
        }
    }

    /// Starts serving one accepted socket. Call from any context; the connection's actor runs on the
    /// socket's ring loop. Returns once the connection waits for input: an idle connection holds no
    /// task (its socket starts one when bytes arrive), and it tears itself down when it ends.
    /// `shutdown(reason:)` waits for every connection to finish.
    public func serve(_ socket: TCPConnection) async {
        let connection: AMQPConnection? = self.registry.withLock { r in
            guard r.accepting else { return nil }
            let id = r.nextID
            r.nextID += 1
            let c = AMQPConnection(id: id, socket: socket, broker: self, logger: self.logger)
            r.connections[id] = c
            return c
        }
        guard let connection else {
            socket.close()
            return
        }
        await connection.run()
    }

    func unregister(_ id: UInt64) {
        let waiters = self.registry.withLock { r -> [CheckedContinuation<Void, Never>] in
            r.connections.removeValue(forKey: id)
            guard r.connections.isEmpty else { return [] }
            defer { r.drainWaiters = [] }
            return r.drainWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until every connection finished its teardown.
    func waitUntilNoConnections() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = self.registry.withLock { r -> Bool in
                guard !r.connections.isEmpty else { return true }
                r.drainWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    public var connectionCount: Int { self.registry.withLock { $0.connections.count } }

    /// Stops accepting, closes every connection with connection.close 320 CONNECTION_FORCED and waits
    /// until each one released its resources.
    public func shutdown(reason: String = "shutdown") async {
        let connections = self.registry.withLock { r in
            r.accepting = false
            return Array(r.connections.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for c in connections {
                group.addTask { await c.close(reason: "broker forced connection closure with reason '\(reason)'") }
            }
        }
        // Every socket is closed now; teardowns only release resources. One that does not finish is a bug:
        // report what it waits for rather than hang the shutdown (SIGTERM must end the process).
        let deadline = ContinuousClock.now + Self.shutdownTeardownTimeout
        while self.connectionCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if self.connectionCount > 0 {
            for line in await self.connectionDiagnostics() {
                self.logger.error("shutdown: connection did not finish its teardown: \(line)")
            }
        }
    }

    /// How long `shutdown` waits for teardowns after the sockets are closed.
    static let shutdownTeardownTimeout: Duration = .seconds(2)

    /// One line per live connection: what it is doing and holding (see `AMQPConnection.diagnostics`).
    public func connectionDiagnostics() async -> [String] {
        let connections = self.registry.withLock { r in r.connections.sorted { $0.key < $1.key }.map(\.value) }
        var lines: [String] = []
        for c in connections { lines.append(await c.diagnostics()) }
        return lines
    }

    /// One line per in-memory message topic (every vhost) that holds messages: live messages and bytes, pages,
    /// and over-releases (always 0 unless a message was released more often than held). See
    /// `VirtualHost.messageTopicStatistics()`.
    public func messageTopicDiagnostics() async -> [String] {
        var lines: [String] = []
        for (name, vhost) in self.virtualHosts.sorted(by: { $0.key < $1.key }) {
            for t in await vhost.messageTopicStatistics() {
                let s = t.statistics
                guard s.liveEntries > 0 || s.overReleases > 0 else { continue }
                lines.append("vhost=\(name) exchange=\(t.exchange ?? "(deleted)") topic=\(t.topic) live=\(s.liveEntries) "
                    + "bytes=\(s.liveBytes) pages=\(s.pages) overReleases=\(s.overReleases)")
            }
        }
        return lines
    }

    /// Sets or clears a resource alarm; publishers get connection.blocked / unblocked.
    public func setAlarm(_ name: String, active: Bool) async {
        let changed = self.alarms.set(name, active: active)
        guard changed else { return }
        let connections = self.registry.withLock { Array($0.connections.values) }
        let blocked = self.alarms.isBlocked
        for c in connections { await c.notifyBlocked(blocked) }
    }
}

/// Active resource alarms (memory, disk). While any is on, publishing connections are blocked.
public final class Alarms: Sendable {
    let active = Mutex<Set<String>>([])

    /// Returns true when the blocked state changed.
    func set(_ name: String, active: Bool) -> Bool {
        self.active.withLock { s in
            let before = !s.isEmpty
            if active { s.insert(name) } else { s.remove(name) }
            return before != !s.isEmpty
        }
    }

    public var isBlocked: Bool { self.active.withLock { !$0.isEmpty } }
    /// Whether the alarm `name` is on.
    public func isActive(_ name: String) -> Bool { self.active.withLock { $0.contains(name) } }
    public var reason: String { self.active.withLock { $0.sorted().joined(separator: ", ") } }
}
