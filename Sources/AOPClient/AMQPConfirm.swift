/// A publisher confirm: the server's `basic.ack` or `basic.nack` for publishes on a channel in confirm mode.
public struct AMQPConfirm: Sendable, Hashable {
    /// The sequence number `basicPublish` returned (or the highest one settled, when `multiple`).
    public var deliveryTag: UInt64
    /// True: every unsettled publish up to and including `deliveryTag` is settled.
    public var multiple: Bool
    /// True for `basic.ack`, false for `basic.nack` (the broker could not take the message).
    public var ack: Bool

    public init(deliveryTag: UInt64, multiple: Bool, ack: Bool) {
        self.deliveryTag = deliveryTag
        self.multiple = multiple
        self.ack = ack
    }
}
