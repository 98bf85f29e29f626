import AOPWire

/// What exchange.declare fixed for an exchange; compared field by field on redeclare.
struct ExchangeDefinition: Hashable, Sendable {
    var name: String
    var type: ExchangeType
    var durable: Bool
    var autoDelete: Bool
    var isInternal: Bool
    var arguments: FieldTable

    /// The `alternate-exchange` argument, when set.
    var alternateExchange: String? { self.arguments["alternate-exchange"]?.stringValue }
}
