public import AOPWire
public import AOPStorage
public import Logging

/// Result of queue.declare.
public struct QueueDeclareResult: Sendable, Hashable {
    public var name: String
    public var messageCount: UInt32
    public var consumerCount: UInt32
    public init(name: String, messageCount: UInt32, consumerCount: UInt32) {
        self.name = name
        self.messageCount = messageCount
        self.consumerCount = consumerCount
    }
}

/// A virtual host: its exchanges, queues and bindings. The connection layer calls only this API
/// (and the `MessageQueue` handles it returns). Errors are AMQP errors with RabbitMQ's reply codes.
///
/// The vhost owns the topology as plain values (one router per exchange) and routes batches itself,
/// transitively over exchange-to-exchange bindings; each `Exchange` actor stores and indexes the routed
/// batch, each `MessageQueue` actor holds one queue. Durable definitions live in `storage.metadata`
/// (layout in `DefinitionStore`).
public actor VirtualHost {
    struct ExchangeEntry {
        var definition: ExchangeDefinition
        var router: AnyRouter
        var actor: Exchange
    }

    struct QueueEntry {
        var definition: QueueDefinition
        var actor: MessageQueue
    }

    /// Exchanges every vhost has; they cannot be declared (amq.*), deleted or, for "", bound.
    static let predeclared: [(String, ExchangeType)] = [
        ("", .direct), ("amq.direct", .direct), ("amq.fanout", .fanout), ("amq.topic", .topic),
        ("amq.headers", .headers), ("amq.match", .headers),
    ]

    public nonisolated let name: String
    /// Where this vhost runs; its exchanges, queues and in-memory cursors share it when it is shared.
    nonisolated let placement: ActorExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { self.placement.executor }
    let storage: any StorageEngine
    let logger: Logger
    let definitions: DefinitionStore
    let topics = MessageTopics()

    var exchanges: [String: ExchangeEntry] = [:]
    var queues: [String: QueueEntry] = [:]
    var topicIDs: [String: UInt32] = [:]
    var nextTopicID: UInt32 = 1
    var reclaimTask: Task<Void, Never>?
    /// Queues whose declaration is setting up storage, with the declares waiting for it.
    var creatingQueues: [String: [CheckedContinuation<Void, Never>]] = [:]

    isolated deinit { self.reclaimTask?.cancel() }

    /// - Parameter executor: runs the vhost and its exchange and queue actors (and the cursors of their
    ///   in-memory topics), e.g. the ring loop of the connections, so their per-batch hops stay on one
    ///   thread. nil: each actor has a default executor of its own.
    public init(name: String, storage: any StorageEngine, logger: Logger, executor: (any SerialExecutor)? = nil) {
        self.name = name
        self.placement = .pinned(toOptional: executor)
        self.storage = storage
        self.logger = logger
        self.definitions = DefinitionStore(metadata: storage.metadata, vhost: name)
    }

    /// Loads durable definitions (exchanges, queues, bindings) and declares the predeclared exchanges.
    public func start() async throws(AMQPError) {
        try await self.restoreDefinitions()
        await self.recoverUnreplicated()
        self.startReclaiming(every: .seconds(5))
    }

    public func declareExchange(name: String, type: String, passive: Bool, durable: Bool, autoDelete: Bool,
                                internal: Bool, arguments: FieldTable) async throws(AMQPError) {
        try await self.exchangeDeclare(name: name, type: type, passive: passive, durable: durable,
                                       autoDelete: autoDelete, internal: `internal`, arguments: arguments)
    }

    public func deleteExchange(name: String, ifUnused: Bool) async throws(AMQPError) {
        try await self.exchangeDelete(name: name, ifUnused: ifUnused)
    }

    public func bindExchange(destination: String, source: String, routingKey: String,
                             arguments: FieldTable) async throws(AMQPError) {
        try await self.exchangeBind(destination: destination, source: source, routingKey: routingKey,
                                    arguments: arguments, bind: true)
    }

    public func unbindExchange(destination: String, source: String, routingKey: String,
                               arguments: FieldTable) async throws(AMQPError) {
        try await self.exchangeBind(destination: destination, source: source, routingKey: routingKey,
                                    arguments: arguments, bind: false)
    }

    /// `name` empty → a server-named queue `amq.gen-…`.
    public func declareQueue(name: String, passive: Bool, durable: Bool, exclusive: Bool, autoDelete: Bool,
                             arguments: FieldTable, connectionID: UInt64) async throws(AMQPError) -> QueueDeclareResult {
        try await self.queueDeclare(name: name, passive: passive, durable: durable, exclusive: exclusive,
                                    autoDelete: autoDelete, arguments: arguments, connectionID: connectionID)
    }

    public func bindQueue(queue: String, exchange: String, routingKey: String, arguments: FieldTable,
                          connectionID: UInt64) async throws(AMQPError) {
        try await self.queueBind(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments,
                                 connectionID: connectionID, bind: true)
    }

    public func unbindQueue(queue: String, exchange: String, routingKey: String, arguments: FieldTable,
                            connectionID: UInt64) async throws(AMQPError) {
        try await self.queueBind(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments,
                                 connectionID: connectionID, bind: false)
    }

    /// Returns the number of messages purged.
    public func purgeQueue(name: String, connectionID: UInt64) async throws(AMQPError) -> UInt32 {
        let queue = try self.lookupQueue(name, connectionID: connectionID)
        return await queue.purge()
    }

    /// Returns the number of messages deleted with the queue.
    public func deleteQueue(name: String, ifUnused: Bool, ifEmpty: Bool,
                            connectionID: UInt64) async throws(AMQPError) -> UInt32 {
        try await self.queueDelete(name: name, ifUnused: ifUnused, ifEmpty: ifEmpty, connectionID: connectionID)
    }

    /// Publishes a batch to one exchange; returns one outcome per request, in order, once every
    /// persistent message routed to a durable queue is durable. Unknown exchange → 404; internal → 403.
    public func publish(exchange: String, _ batch: [PublishRequest]) async throws(AMQPError) -> [PublishOutcome] {
        try await self.publishBatch(exchange: exchange, batch)
    }

    /// The queue for consume/get. Unknown → 404; exclusive to another connection → 405.
    public func queue(named name: String, connectionID: UInt64) async throws(AMQPError) -> MessageQueue {
        try self.lookupQueue(name, connectionID: connectionID)
    }

    /// Deletes the connection's exclusive queues.
    public func connectionClosed(connectionID: UInt64) async {
        let owned = self.queues.values.filter { $0.definition.exclusiveOwner == connectionID }.map(\.actor)
        for queue in owned { await self.removeQueue(queue, reason: "exclusive owner closed") }
    }
}

/// A queue: its index topic, consumers and unsettled deliveries.
public typealias QueueHandle = MessageQueue
