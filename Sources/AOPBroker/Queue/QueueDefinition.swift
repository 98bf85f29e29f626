import AOPWire

/// What queue.declare fixed for a queue; compared on redeclare.
struct QueueDefinition: Hashable, Sendable {
    var name: String
    var durable: Bool
    /// The owning connection of an exclusive queue.
    var exclusiveOwner: UInt64?
    var autoDelete: Bool
    var arguments: FieldTable
}
