public import AOPBroker
public import AOPWire

/// A message delivered to an in-process consumer or taken with ``EmbeddedBroker/get(queue:autoAck:virtualHost:)``.
///
/// Unless it was taken with auto-ack, settle it exactly once with ``ack()``, ``nack(requeue:)`` or
/// ``reject(requeue:)``; settling it again, or after its consumer ended (which requeued it), throws
/// `.deliveryNotPending` (406).
public struct EmbeddedDelivery: Sendable {
    /// Exchange, routing key, properties and body as published.
    public let message: Message
    /// True when the message was delivered before and given back (nack/reject with requeue, consumer
    /// cancelled, client connection closed).
    public let redelivered: Bool
    /// The consumer's tag; empty for basic.get.
    public let consumerTag: String
    /// The queue it came from.
    public let queue: String
    /// For basic.get: messages left in the queue after this one (0 for consumer deliveries).
    public let messageCount: UInt32
    /// Queue-local delivery id (unique per queue while unsettled).
    public let deliveryID: UInt64
    let settler: (any DeliverySettler)?

    init(_ delivery: Delivery, settler: (any DeliverySettler)?) {
        self.message = delivery.message
        self.redelivered = delivery.redelivered
        self.consumerTag = delivery.consumerTag
        self.queue = delivery.queue.name
        self.messageCount = delivery.messageCount
        self.deliveryID = delivery.deliveryID
        self.settler = settler
    }

    /// The message body.
    public var body: [UInt8] { self.message.body }
    /// The message properties (headers included).
    public var properties: BasicProperties { self.message.properties }
    /// The routing key it was published with.
    public var routingKey: String { self.message.routingKey }
    /// False for auto-ack deliveries (nothing to settle).
    public var needsSettlement: Bool { self.settler != nil }

    /// basic.ack: the queue forgets the message (durably, in a durable queue).
    public func ack() async throws(EmbeddedBrokerError) {
        try await self.settle(.ack)
    }

    /// basic.nack: `requeue` gives it back to the queue (redelivered); otherwise it is dead-lettered
    /// (reason `rejected`) when the queue has a dead-letter exchange, else dropped.
    public func nack(requeue: Bool = true) async throws(EmbeddedBrokerError) {
        try await self.settle(requeue ? .requeue : .reject)
    }

    /// basic.reject: as ``nack(requeue:)`` for one delivery.
    public func reject(requeue: Bool = true) async throws(EmbeddedBrokerError) {
        try await self.settle(requeue ? .requeue : .reject)
    }

    func settle(_ settlement: Settlement) async throws(EmbeddedBrokerError) {
        guard let settler = self.settler else { throw .notPending(self.deliveryID) }
        try await settler.settle(deliveryID: self.deliveryID, settlement)
    }
}
