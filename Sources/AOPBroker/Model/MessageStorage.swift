public import AOPWire

/// The shared, immutable object behind a `Message`.
@usableFromInline
final class MessageStorage: Sendable {
    @usableFromInline let exchange: String
    @usableFromInline let routingKey: String
    @usableFromInline let properties: BasicProperties
    @usableFromInline let body: [UInt8]

    init(exchange: String, routingKey: String, properties: BasicProperties, body: [UInt8]) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
    }

    /// A new object with one field replaced.
    func with(exchange: String? = nil, routingKey: String? = nil, properties: BasicProperties? = nil,
              body: [UInt8]? = nil) -> MessageStorage {
        MessageStorage(exchange: exchange ?? self.exchange, routingKey: routingKey ?? self.routingKey,
                       properties: properties ?? self.properties, body: body ?? self.body)
    }
}
