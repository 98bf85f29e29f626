public import AOPStorage

/// One in-memory message topic of an exchange and what it holds (`VirtualHost.messageTopicStatistics()`).
public struct MessageTopicStatistics: Sendable, Hashable {
    /// The exchange the topic belongs to ("" for the default exchange); nil once the exchange was deleted
    /// (queues may still hold its messages).
    public var exchange: String?
    /// The storage topic name (`exchange-transient.<vhost>.<exchange>` for transient messages).
    public var topic: String
    public var statistics: InMemoryTopicStatistics

    public init(exchange: String?, topic: String, statistics: InMemoryTopicStatistics) {
        self.exchange = exchange
        self.topic = topic
        self.statistics = statistics
    }
}
