public import AOPWire

extension QueueArguments {
    /// Redeclare check: the received arguments must be equivalent to these (declared) ones on the keys
    /// RabbitMQ compares for this queue type; see `ArgumentEquivalence`.
    public func assertEquivalent(to received: FieldTable, queue: String, vhost: String) throws(AMQPError) {
        try ArgumentEquivalence.assertEquivalent(
            current: self.raw, received: received, keys: self.queueType.argumentKeys,
            resource: "queue '\(queue)' in vhost '\(vhost)'")
    }

    /// True when a redeclare with `received` would pass `assertEquivalent`.
    public func isEquivalent(to received: FieldTable) -> Bool {
        do { try self.assertEquivalent(to: received, queue: "", vhost: "") } catch { return false }
        return true
    }
}
