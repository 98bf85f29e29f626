public import AOPWire

/// A message delivered to a consumer (`basic.deliver`) or fetched with `basic.get`.
public struct AMQPDelivery: Sendable, Hashable {
    /// Acknowledge, reject or nack with this tag on the channel it came from.
    public var deliveryTag: UInt64
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    /// The consumer it was delivered to; empty for `basic.get`.
    public var consumerTag: String
    public var properties: BasicProperties
    public var body: [UInt8]

    public init(deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String, consumerTag: String,
                properties: BasicProperties, body: [UInt8]) {
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.consumerTag = consumerTag
        self.properties = properties
        self.body = body
    }
}
