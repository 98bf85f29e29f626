public import AOPWire

/// A mandatory message the server could not route, sent back with `basic.return`.
public struct AMQPReturnedMessage: Sendable, Hashable {
    /// 312 NO_ROUTE, typically.
    public var replyCode: UInt16
    public var replyText: String
    public var exchange: String
    public var routingKey: String
    public var properties: BasicProperties
    public var body: [UInt8]

    public init(replyCode: UInt16, replyText: String, exchange: String, routingKey: String,
                properties: BasicProperties, body: [UInt8]) {
        self.replyCode = replyCode
        self.replyText = replyText
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
    }
}
