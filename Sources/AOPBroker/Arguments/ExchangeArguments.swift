public import AOPWire

/// The arguments of exchange.declare that the broker interprets: `alternate-exchange`.
public struct ExchangeArguments: Sendable, Hashable {
    /// Where unroutable messages go.
    public var alternateExchange: String?
    /// The arguments as declared.
    public var raw: FieldTable = [:]

    public init(alternateExchange: String? = nil) { self.alternateExchange = alternateExchange }

    /// Validates as RabbitMQ's channel does for a new exchange: `alternate-exchange` must be a long
    /// string, else 406 `invalid type 'signedint' for arg 'alternate-exchange' in exchange 'x' in vhost '/'`.
    public init(parsing arguments: FieldTable, exchange: String, vhost: String) throws(AMQPError) {
        if let value = arguments["alternate-exchange"] {
            guard case .longString(let bytes) = value else {
                throw .preconditionFailed("invalid type '\(value.erlangTypeName)' for arg 'alternate-exchange' "
                                          + "in exchange '\(exchange)' in vhost '\(vhost)'")
            }
            self.alternateExchange = ErlangFormat.text(bytes)
        }
        self.raw = arguments
    }

    /// Redeclare check (only `alternate-exchange` is compared, as RabbitMQ does).
    public func assertEquivalent(to received: FieldTable, exchange: String, vhost: String) throws(AMQPError) {
        try ArgumentEquivalence.assertEquivalent(
            current: self.raw, received: received, keys: ArgumentEquivalence.exchangeKeys,
            resource: "exchange '\(exchange)' in vhost '\(vhost)'")
    }
}
