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
/// INTERFACE CONTRACT (implemented in the broker-core work; signatures are fixed):
public actor VirtualHost {
    public nonisolated let name: String
    let storage: any StorageEngine
    let logger: Logger

    public init(name: String, storage: any StorageEngine, logger: Logger) {
        self.name = name
        self.storage = storage
        self.logger = logger
    }

    /// Loads durable definitions (exchanges, queues, bindings) and declares the predeclared exchanges.
    public func start() async throws(AMQPError) {}

    public func declareExchange(name: String, type: String, passive: Bool, durable: Bool, autoDelete: Bool,
                                internal: Bool, arguments: FieldTable) async throws(AMQPError) {
        throw .notImplemented("exchange.declare")
    }

    public func deleteExchange(name: String, ifUnused: Bool) async throws(AMQPError) {
        throw .notImplemented("exchange.delete")
    }

    public func bindExchange(destination: String, source: String, routingKey: String,
                             arguments: FieldTable) async throws(AMQPError) {
        throw .notImplemented("exchange.bind")
    }

    public func unbindExchange(destination: String, source: String, routingKey: String,
                               arguments: FieldTable) async throws(AMQPError) {
        throw .notImplemented("exchange.unbind")
    }

    /// `name` empty → a server-named queue `amq.gen-…`.
    public func declareQueue(name: String, passive: Bool, durable: Bool, exclusive: Bool, autoDelete: Bool,
                             arguments: FieldTable, connectionID: UInt64) async throws(AMQPError) -> QueueDeclareResult {
        throw .notImplemented("queue.declare")
    }

    public func bindQueue(queue: String, exchange: String, routingKey: String, arguments: FieldTable,
                          connectionID: UInt64) async throws(AMQPError) {
        throw .notImplemented("queue.bind")
    }

    public func unbindQueue(queue: String, exchange: String, routingKey: String, arguments: FieldTable,
                            connectionID: UInt64) async throws(AMQPError) {
        throw .notImplemented("queue.unbind")
    }

    /// Returns the number of messages purged.
    public func purgeQueue(name: String, connectionID: UInt64) async throws(AMQPError) -> UInt32 {
        throw .notImplemented("queue.purge")
    }

    /// Returns the number of messages deleted with the queue.
    public func deleteQueue(name: String, ifUnused: Bool, ifEmpty: Bool,
                            connectionID: UInt64) async throws(AMQPError) -> UInt32 {
        throw .notImplemented("queue.delete")
    }

    /// Publishes a batch to one exchange; returns one outcome per request, in order, once every
    /// persistent message routed to a durable queue is durable. Unknown exchange → 404; internal → 403.
    public func publish(exchange: String, _ batch: [PublishRequest]) async throws(AMQPError) -> [PublishOutcome] {
        throw .notImplemented("basic.publish")
    }

    /// The queue for consume/get. Unknown → 404; exclusive to another connection → 405.
    public func queue(named name: String, connectionID: UInt64) async throws(AMQPError) -> MessageQueue {
        throw .notImplemented("queue lookup")
    }

    /// Deletes the connection's exclusive queues.
    public func connectionClosed(connectionID: UInt64) async {}
}

/// A queue: its index topic, consumers and unsettled deliveries.
public typealias QueueHandle = MessageQueue

public actor MessageQueue {
    public nonisolated let name: String
    public init(name: String) { self.name = name }

    /// Registers a consumer; deliveries start at once, within its credit. An exclusive consumer when
    /// others exist, or any consumer when an exclusive one exists → 403 ACCESS_REFUSED.
    public func consume(_ consumer: ConsumerRegistration) async throws(AMQPError) {
        throw .notImplemented("basic.consume")
    }

    /// Removes a consumer (its unsettled deliveries stay with the channel). Auto-delete queues go when
    /// their last consumer does.
    public func cancel(consumerTag: String) async {}

    /// basic.get: the next ready message, or nil. noAck settles it at once.
    public func get(noAck: Bool) async throws(AMQPError) -> Delivery? {
        throw .notImplemented("basic.get")
    }

    /// Settles deliveries by their queue-local ids.
    public func settle(_ deliveryIDs: [UInt64], _ settlement: Settlement) async {}

    /// A channel released credit (acks, qos change): resume deliveries to consumers that had none.
    public func creditAvailable() {}
}
