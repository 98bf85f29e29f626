public import AOPWire

/// Dead-lettering headers as RabbitMQ 3.13 writes them (`mc:record_death`, deaths v2, and
/// `mc_amqpl:protocol_state`).
///
/// - `x-death` is an array of tables, most recent first, one per (queue, reason). Dying again in the
///   same queue for the same reason increments `count` and moves the entry to the front, keeping its
///   first exchange, routing keys, time and original-expiration.
/// - On a message's first death `x-first-death-reason/-queue/-exchange` are set; every death sets
///   `x-last-death-reason/-queue/-exchange` (long strings).
/// - The message's `expiration` is removed; a new entry records it as `original-expiration`.
/// - The resulting headers table is sorted by key (RabbitMQ rewrites it through `set_table_value`
///   and a key sort), one entry per key.
public enum DeathHeaders {
    /// The x-death entries of a message's headers, in header order (most recent first).
    public static func deaths(in headers: FieldTable?) -> [DeathRecord] {
        guard let array = headers?["x-death"]?.arrayValue else { return [] }
        return array.compactMap { $0.tableValue.flatMap(DeathRecord.init(table:)) }
    }

    /// The routing keys a death records: the routing key and the `CC` header's long strings.
    public static func routingKeys(routingKey: String, headers: FieldTable?) -> [String] {
        var keys = [routingKey]
        if let cc = headers?["CC"]?.arrayValue {
            keys += cc.compactMap { if case .longString(let b) = $0 { return ErlangFormat.text(b) } else { return nil } }
        }
        return keys
    }

    /// The properties of a message dead-lettered from `queue`.
    /// - Parameters:
    ///   - exchange: the exchange the message was last published to.
    ///   - routingKeys: its routing keys (see `routingKeys(routingKey:headers:)`).
    ///   - nowMilliseconds: the time of death, ms since the epoch (x-death stores seconds).
    public static func recordDeath(_ properties: BasicProperties, reason: DeadLetterReason, queue: String,
                                   exchange: String, routingKeys: [String], nowMilliseconds: UInt64) -> BasicProperties {
        var deaths = self.deaths(in: properties.headers)
        let isFirstDeath = deaths.isEmpty
        if let i = deaths.firstIndex(where: { $0.queue == queue && $0.reason == reason }) {
            var record = deaths.remove(at: i)
            record.count += 1
            deaths.insert(record, at: 0)
        } else {
            let ttl = (try? MessageExpiration.of(properties))??.milliseconds
            deaths.insert(DeathRecord(queue: queue, reason: reason, count: 1, exchange: exchange,
                                      routingKeys: routingKeys, time: nowMilliseconds / 1000,
                                      originalExpiration: ttl.map { String($0) }), at: 0)
        }
        var annotations: [FieldTable.Entry] = []
        if isFirstDeath {
            annotations += [.init(key: "x-first-death-reason", value: .string(reason.rawValue)),
                            .init(key: "x-first-death-queue", value: .string(queue)),
                            .init(key: "x-first-death-exchange", value: .string(exchange))]
        }
        annotations += [.init(key: "x-last-death-reason", value: .string(reason.rawValue)),
                        .init(key: "x-last-death-queue", value: .string(queue)),
                        .init(key: "x-last-death-exchange", value: .string(exchange))]
        var headers = properties.headers ?? FieldTable()
        headers["x-death"] = .array(deaths.map { .table($0.table) })
        // Annotations first so they win over equal keys; then sort by key keeping the first per key.
        let merged = FieldTable(annotations + headers.entries).sortedByKey()
        var unique: [FieldTable.Entry] = []
        for entry in merged.entries where unique.last.map({ ExactString($0.key) != ExactString(entry.key) }) ?? true {
            unique.append(entry)
        }
        var result = properties
        result.headers = FieldTable(unique)
        result.expiration = nil
        return result
    }

    /// Whether dead-lettering to `targetQueue` closes a fully automatic cycle (RabbitMQ's
    /// `is_cycle_v2`): the target is among the queues the message died in, and no death from the most
    /// recent one back to that queue's entry (inclusive) was a rejection. Such messages are dropped.
    public static func isCycle(targetQueue: String, deaths: [DeathRecord]) -> Bool {
        guard let i = deaths.firstIndex(where: { $0.queue == targetQueue }) else { return false }
        return deaths[...i].allSatisfy { $0.reason != .rejected }
    }
}
