public import AOPWire

/// A published message as the broker keeps it: exchange and routing key it was published with,
/// its properties (headers included, preserved exactly) and body.
public struct Message: Sendable, Hashable {
    public var exchange: String
    public var routingKey: String
    public var properties: BasicProperties
    public var body: [UInt8]

    public init(exchange: String, routingKey: String, properties: BasicProperties, body: [UInt8]) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
    }

    public var isPersistent: Bool { self.properties.isPersistent }
}

/// One publish inside a batch handed from a channel to the broker.
public struct PublishRequest: Sendable {
    public var message: Message
    public var mandatory: Bool
    public init(message: Message, mandatory: Bool) {
        self.message = message
        self.mandatory = mandatory
    }
}

/// What became of one publish.
public enum PublishOutcome: Sendable, Hashable {
    /// Enqueued in at least one queue (durably, for a persistent message in a durable queue).
    case routed
    /// Reached no queue. The channel sends basic.return 312 NO_ROUTE when the publish was mandatory;
    /// a confirming publisher gets basic.ack (as RabbitMQ does).
    case unroutable
    /// A queue refused it (x-overflow reject-publish, or storage failure): a confirming publisher gets basic.nack.
    case rejected
    /// Not stored because the disk is full (ENOSPC): a confirming publisher gets basic.nack, and the broker
    /// raises its `disk` alarm (connection.blocked) until space returns.
    case noSpace
}
