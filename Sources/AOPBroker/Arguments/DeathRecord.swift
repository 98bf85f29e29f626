public import AOPWire

/// Why a message was dead-lettered (the `reason` of an x-death entry).
public enum DeadLetterReason: String, Sendable, Hashable, CaseIterable {
    case rejected, expired, maxlen
    case deliveryLimit = "delivery_limit"
}

/// One entry of the `x-death` header: the deaths of a message in one queue for one reason.
public struct DeathRecord: Sendable, Hashable {
    public var queue: String
    public var reason: DeadLetterReason
    public var count: Int64
    /// The exchange the message had been published to when it first died here.
    public var exchange: String
    /// Its routing keys then (routing key and CC, never BCC).
    public var routingKeys: [String]
    /// When it first died here, in seconds since the epoch (an AMQP timestamp).
    public var time: UInt64
    /// The message's `expiration` when it first died here, as its canonical integer text.
    public var originalExpiration: String?

    public init(queue: String, reason: DeadLetterReason, count: Int64, exchange: String,
                routingKeys: [String], time: UInt64, originalExpiration: String? = nil) {
        self.queue = queue
        self.reason = reason
        self.count = count
        self.exchange = exchange
        self.routingKeys = routingKeys
        self.time = time
        self.originalExpiration = originalExpiration
    }

    /// The entry as RabbitMQ 3.13 writes it (`mc_amqpl:death_table`): original-expiration (when set),
    /// count (long), reason, queue, time (timestamp), exchange, routing-keys (array of long strings).
    public var table: FieldTable {
        var entries: [FieldTable.Entry] = []
        if let e = self.originalExpiration { entries.append(.init(key: "original-expiration", value: .string(e))) }
        entries += [
            .init(key: "count", value: .int64(self.count)),
            .init(key: "reason", value: .string(self.reason.rawValue)),
            .init(key: "queue", value: .string(self.queue)),
            .init(key: "time", value: .timestamp(self.time)),
            .init(key: "exchange", value: .string(self.exchange)),
            .init(key: "routing-keys", value: .array(self.routingKeys.map(FieldValue.string))),
        ]
        return FieldTable(entries)
    }

    /// Reads an entry the way RabbitMQ recovers it (`recover_deaths`): exchange, queue, routing-keys,
    /// reason, count and an integer time are required; entries lacking any are dropped. Strings must
    /// be long strings (or byte arrays), count an integer, reason a known reason.
    public init?(table: FieldTable) {
        guard let queue = table["queue"]?.erlangBinary, let exchange = table["exchange"]?.erlangBinary,
              let reasonBytes = table["reason"]?.erlangBinary,
              let reason = DeadLetterReason(rawValue: ErlangFormat.text(reasonBytes)),
              let count = table["count"]?.erlangInteger,
              let time = table["time"]?.erlangInteger,
              let keys = table["routing-keys"]?.arrayValue else { return nil }
        self.queue = ErlangFormat.text(queue)
        self.exchange = ErlangFormat.text(exchange)
        self.reason = reason
        self.count = count
        self.time = UInt64(bitPattern: time)
        self.routingKeys = keys.compactMap { $0.erlangBinary.map(ErlangFormat.text) }
        self.originalExpiration = table["original-expiration"]?.erlangBinary.map(ErlangFormat.text)
    }
}
