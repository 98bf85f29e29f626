public import AOPWire

/// A published message as the broker keeps it: exchange and routing key it was published with,
/// its properties (headers included, preserved exactly) and body.
///
/// A value type backed by one immutable shared object: copying a message (into a routed publish, an
/// in-memory topic, a delivery, several queues of a fanout) is one retain, not a copy of four fields.
/// Setting a field makes a new object (rare: dead-lettering, BCC removal); reads borrow the fields
/// (`_read` accessors: a getter would copy `properties`, a retain per present string property, every
/// time the hot path looks at a message — profiled as a tenth of the broker's retain/release calls).
/// They are inlinable: called across modules, a `_read` coroutine allocates its frame on every access
/// (HotPathBenchmarks counted one malloc per delivery until they were).
public struct Message: Sendable, Hashable {
    @usableFromInline private(set) var storage: MessageStorage

    public init(exchange: String, routingKey: String, properties: BasicProperties, body: [UInt8]) {
        self.storage = MessageStorage(exchange: exchange, routingKey: routingKey, properties: properties, body: body)
    }

    public var exchange: String {
        @inlinable _read { yield self.storage.exchange }
        set { self.storage = self.storage.with(exchange: newValue) }
    }

    public var routingKey: String {
        @inlinable _read { yield self.storage.routingKey }
        set { self.storage = self.storage.with(routingKey: newValue) }
    }

    public var properties: BasicProperties {
        @inlinable _read { yield self.storage.properties }
        set { self.storage = self.storage.with(properties: newValue) }
    }

    public var body: [UInt8] {
        @inlinable _read { yield self.storage.body }
        set { self.storage = self.storage.with(body: newValue) }
    }

    @inlinable public var isPersistent: Bool { self.storage.properties.isPersistent }

    /// Whether both values share one storage object (a copy, not an equal message built separately).
    func sharesStorage(with other: Message) -> Bool { self.storage === other.storage }


    public static func == (lhs: Message, rhs: Message) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.exchange == rhs.exchange && lhs.routingKey == rhs.routingKey
                && lhs.properties == rhs.properties && lhs.body == rhs.body)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.exchange)
        hasher.combine(self.routingKey)
        hasher.combine(self.properties)
        hasher.combine(self.body)
    }
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
