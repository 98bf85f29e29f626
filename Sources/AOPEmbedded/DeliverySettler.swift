import AOPBroker

/// Who settles an ``EmbeddedDelivery``: its consumer, or the broker's ledger of basic.get deliveries.
/// Settling a delivery that is no longer pending throws `.deliveryNotPending`.
protocol DeliverySettler: AnyObject, Sendable {
    func settle(deliveryID: UInt64, _ settlement: Settlement) async throws(EmbeddedBrokerError)
}
