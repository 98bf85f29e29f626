/// What the runner observed, in the order each channel observed it. The checker reads only these.
public enum StressEvent: Sendable, Hashable {
    /// A publish about to be sent (recorded before sending, so a delivery never precedes it).
    case published(PublishRecord)
    /// The broker's basic.ack (`ack`) or basic.nack for a publish in confirm mode.
    case confirmed(MessageID, ack: Bool)
    /// basic.return of a mandatory publish.
    case returned(MessageID)
    /// basic.deliver or basic.get-ok.
    case delivered(DeliveryRecord)
    /// A delivery for a consumer tag the channel had already cancelled (after cancel-ok) or never had.
    case unexpectedDelivery(channel: UInt64, consumerTag: String, deliveryTag: UInt64)
    /// A body that is not an intact aop-stress message.
    case corrupt(channel: UInt64, queue: String, detail: String)
    /// Losses from this queue cannot be proven from now on (e.g. a no-ack basic.get failed in flight).
    case lossAllowed(queue: String, reason: String)
    /// The channel incarnation ended: its delivery tags and order state can be forgotten.
    case channelEnded(UInt64)
}

/// One publish.
public struct PublishRecord: Sendable, Hashable {
    public var id: MessageID
    public var exchange: String
    public var routingKey: String
    public var mandatory: Bool
    public var confirmMode: Bool

    public init(id: MessageID, exchange: String, routingKey: String, mandatory: Bool, confirmMode: Bool) {
        self.id = id
        self.exchange = exchange
        self.routingKey = routingKey
        self.mandatory = mandatory
        self.confirmMode = confirmMode
    }
}

/// One delivery as the client saw it.
public struct DeliveryRecord: Sendable, Hashable {
    /// The channel incarnation (unique in the run).
    public var channel: UInt64
    /// The consumer tag; nil for basic.get.
    public var consumerTag: String?
    public var queue: String
    public var deliveryTag: UInt64
    public var redelivered: Bool
    public var message: MessageID
    /// Read by the final drain rather than during the run.
    public var drain: Bool

    public init(channel: UInt64, consumerTag: String?, queue: String, deliveryTag: UInt64, redelivered: Bool,
                message: MessageID, drain: Bool = false) {
        self.channel = channel
        self.consumerTag = consumerTag
        self.queue = queue
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.message = message
        self.drain = drain
    }
}
