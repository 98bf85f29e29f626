/// A message handed from a queue to a consumer (or to basic.get).
public struct Delivery: Sendable {
    /// The consumer tag; empty for basic.get.
    public var consumerTag: String
    /// The queue that delivered it, for settlement.
    public var queue: QueueHandle
    /// Queue-local id of this delivery (unique per queue while unsettled); passed back when settling.
    public var deliveryID: UInt64
    public var message: Message
    public var redelivered: Bool
    /// For basic.get-ok: messages left in the queue after this one.
    public var messageCount: UInt32

    public init(consumerTag: String, queue: QueueHandle, deliveryID: UInt64, message: Message,
                redelivered: Bool, messageCount: UInt32 = 0) {
        self.consumerTag = consumerTag
        self.queue = queue
        self.deliveryID = deliveryID
        self.message = message
        self.redelivered = redelivered
        self.messageCount = messageCount
    }
}

/// How a consumer settles deliveries.
public enum Settlement: Sendable, Hashable {
    case ack
    /// nack/reject with requeue=true, or unacked at channel close: back to the queue in original order, redelivered.
    case requeue
    /// nack/reject with requeue=false: dead-lettered (reason `rejected`) when the queue has a DLX, else dropped.
    case reject
}
