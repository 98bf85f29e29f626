import AOPWire

/// The shared object behind a `Message`. Only `Message` mutates it, and only while it holds the sole
/// reference (copy on write), so a storage object reachable from more than one value is never mutated.
final class MessageStorage: @unchecked Sendable {
    // @unchecked: the fields are `var` only for `Message`'s copy-on-write setters, which mutate an object
    // they reference uniquely (`isKnownUniquelyReferenced`); a shared object — the only kind another
    // thread can see — is immutable, and all fields are Sendable values.
    var exchange: String
    var routingKey: String
    var properties: BasicProperties
    var body: [UInt8]

    init(exchange: String, routingKey: String, properties: BasicProperties, body: [UInt8]) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
    }
}
