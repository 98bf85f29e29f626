public import AOPWire

/// Where a binding delivers: a queue, or another exchange (exchange.bind).
public enum Destination: Hashable, Sendable {
    case queue(String)
    case exchange(String)
}

/// One binding of an exchange: destination, routing key (binding key) and arguments.
public struct Binding: Hashable, Sendable {
    public var destination: Destination
    public var routingKey: String
    public var arguments: FieldTable
    public init(destination: Destination, routingKey: String, arguments: FieldTable = [:]) {
        self.destination = destination
        self.routingKey = routingKey
        self.arguments = arguments
    }
}

/// The exchange types aop implements.
public enum ExchangeType: String, Hashable, Sendable, CaseIterable {
    case direct, fanout, topic, headers
}

/// A routing table as a plain value (RabbitMQ's `route/3`): bindings in, destinations out. No I/O,
/// no actors; the exchange actor owns one and mutates it.
public protocol Router: Sendable {
    /// Adds a binding; returns false when an identical binding already existed (binding is idempotent).
    mutating func bind(_ binding: Binding) -> Bool
    /// Removes a binding; returns false when it did not exist.
    mutating func unbind(_ binding: Binding) -> Bool
    /// Removes every binding to `destination`; returns how many were removed.
    mutating func unbindAll(destination: Destination) -> Int
    /// The destinations a message with this routing key and headers reaches (each at most once).
    func route(routingKey: String, headers: FieldTable?) -> Set<Destination>
    /// Every binding, for listing and persistence.
    var bindings: [Binding] { get }
    var isEmpty: Bool { get }
    /// Rejects a binding this exchange type cannot take (RabbitMQ's `validate_binding`), with the
    /// error the bind must fail with. Call before `bind`. Default: every binding is valid.
    func validate(_ binding: Binding) throws(AMQPError)
}

extension Router {
    public func validate(_ binding: Binding) throws(AMQPError) {}

    /// Routes a message published with several routing keys (the routing key plus the `CC` and `BCC`
    /// header routes): the union of the destinations of each key, each destination once.
    public func route(routingKeys: some Sequence<String>, headers: FieldTable?) -> Set<Destination> {
        var result: Set<Destination> = []
        var first = true
        for key in routingKeys {
            let some = self.route(routingKey: key, headers: headers)
            if first { result = some; first = false } else { result.formUnion(some) }
        }
        return result
    }
}
