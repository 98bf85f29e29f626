/// A delivery for a consumer tag this channel does not know (never consumed, or already cancelled).
/// The client never drops such deliveries silently: it counts and records them on the channel.
public struct AMQPUnexpectedDelivery: Sendable, Hashable {
    public var consumerTag: String
    public var deliveryTag: UInt64

    public init(consumerTag: String, deliveryTag: UInt64) {
        self.consumerTag = consumerTag
        self.deliveryTag = deliveryTag
    }
}
