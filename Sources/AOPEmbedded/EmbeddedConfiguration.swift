public import AOPBroker

/// How an ``EmbeddedBroker`` stores messages, which TCP listeners it opens and how its broker is set up.
public struct EmbeddedConfiguration: Sendable {
    /// Where messages and definitions live.
    public enum Storage: Sendable, Hashable {
        /// Nothing survives the broker: for tests and caches.
        case inMemory
        /// The on-disk log engine in this directory (created if missing); persistent messages in durable
        /// queues survive restarts. File I/O runs on an io_uring ring of its own.
        case directory(String)
    }

    /// An AMQP 0-9-1 TCP listener, for stock clients (pika, amqp091-go, …) next to the in-process API.
    public struct Listener: Sendable, Hashable {
        public var host: String
        /// 0 picks a free port; read it back from ``EmbeddedBroker/listenerPorts``.
        public var port: UInt16
        public init(host: String = "127.0.0.1", port: UInt16 = 0) {
            self.host = host
            self.port = port
        }
    }

    public var storage: Storage
    /// Zero listeners (the default) keeps the broker purely in-process.
    public var listeners: [Listener]
    /// io_uring loops serving TCP connections (only started when there are listeners).
    public var ioThreads: Int
    /// Users, vhosts and protocol limits, as for `aop-server`.
    public var broker: BrokerConfiguration

    /// - Parameters:
    ///   - storage: `.inMemory` (default) or `.directory(path)`.
    ///   - listeners: TCP listeners; none by default.
    ///   - ioThreads: ring loops for TCP connections.
    ///   - broker: users, vhosts and limits.
    public init(storage: Storage = .inMemory, listeners: [Listener] = [], ioThreads: Int = 1,
                broker: BrokerConfiguration = BrokerConfiguration()) {
        self.storage = storage
        self.listeners = listeners
        self.ioThreads = ioThreads
        self.broker = broker
    }
}
