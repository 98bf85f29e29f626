import AOPWire
import AOPStorage

extension VirtualHost {
    func publishBatch(exchange: String, _ batch: [PublishRequest]) async throws(AMQPError) -> [PublishOutcome] {
        await (try await self.beginPublish(exchange: exchange, batch)).finish()
    }

    /// Routes and writes a batch (`Exchange.beginPublish`); the ticket's `finish()` waits for durability
    /// and returns the outcomes. Batches begun one after another are stored in that order, and a caller
    /// may begin the next batch before finishing this one (pipelining). Unknown exchange → 404;
    /// internal → 403.
    func beginPublish(exchange: String, _ batch: [PublishRequest]) async throws(AMQPError) -> PublishTicket {
        guard let entry = self.exchanges[exchange] else { throw self.noExchange(exchange) }
        if entry.definition.isInternal {
            throw .accessRefused("cannot publish to internal \(self.exchangeResource(exchange))")
        }
        var routed: [RoutedPublish] = []
        routed.reserveCapacity(batch.count)
        var slots: [Int] = []
        slots.reserveCapacity(batch.count)
        // Without headers (no CC/BCC, nothing for a headers exchange to match) a message's destinations
        // depend only on its routing key, and the topology cannot change during this synchronous loop:
        // consecutive publishes with the same key reuse one routing result.
        var lastKey: String?
        var lastTargets = RouteTargets(queues: [], durable: false)
        for (i, request) in batch.enumerated() {
            let message = request.message
            let item: RoutedPublish?
            if message.properties.headers == nil {
                if lastKey != message.routingKey {
                    lastTargets = self.targets(exchange: exchange, routingKeys: [message.routingKey], headers: nil)
                    lastKey = message.routingKey
                }
                item = Self.routed(message, to: lastTargets)
            } else {
                item = self.prepare(message, exchange: exchange)
            }
            guard let item else { continue }
            routed.append(item)
            slots.append(i)
        }
        guard !routed.isEmpty else { return PublishTicket(count: batch.count, share: nil, slots: []) }
        let share = await entry.actor.beginPublish(routed)
        return PublishTicket(count: batch.count, share: share, slots: slots)
    }

    /// Routes one message and encodes it for the exchange pipeline; nil when it reaches no queue.
    func prepare(_ original: Message, exchange: String) -> RoutedPublish? {
        var message = original
        let headers = message.properties.headers
        var keys = DeathHeaders.routingKeys(routingKey: message.routingKey, headers: headers)
        if let bcc = headers?["BCC"]?.arrayValue {
            keys += bcc.compactMap(\.stringValue)
            message.properties.headers?["BCC"] = nil   // sender-selected distribution: BCC is not delivered
        }
        return Self.routed(message, to: self.targets(exchange: exchange, routingKeys: keys, headers: headers))
    }

    /// The queues a message reaches, as the exchange pipeline wants them.
    func targets(exchange: String, routingKeys: [String], headers: FieldTable?) -> RouteTargets {
        let names = self.route(exchange: exchange, routingKeys: routingKeys, headers: headers)
        var queues: [MessageQueue] = []
        queues.reserveCapacity(names.count)
        var durable = false
        for name in names {
            guard let entry = self.queues[name] else { continue }
            queues.append(entry.actor)
            durable = durable || entry.definition.durable
        }
        return RouteTargets(queues: queues, durable: durable)
    }

    /// Prepares a message for the exchange pipeline (encoded when it goes to disk); nil when it reaches no queue.
    static func routed(_ message: Message, to targets: RouteTargets) -> RoutedPublish? {
        guard !targets.queues.isEmpty else { return nil }
        let expiration = (try? MessageExpiration.of(message.properties)) ?? nil
        let persistent = message.isPersistent && targets.durable
        // A transient message is kept as it is by the in-memory topic: encoded only for disk.
        return RoutedPublish(payload: persistent ? MessageRecord.encode(message) : [], message: message,
                             persistent: persistent,
                             queues: targets.queues, bodySize: UInt32(clamping: message.body.count),
                             expiration: expiration?.milliseconds, priority: message.properties.priority ?? 0)
    }

    /// The queues a message reaches: the default exchange by queue name; others through their routers,
    /// following exchange-to-exchange bindings (each exchange visited once), then the alternate exchange
    /// chain when nothing matched.
    func route(exchange: String, routingKeys: [String], headers: FieldTable?) -> [String] {
        if exchange.isEmpty {
            if routingKeys.count == 1 { return self.queues[routingKeys[0]] == nil ? [] : routingKeys }
            var seen: Set<String> = []
            return routingKeys.filter { self.queues[$0] != nil && seen.insert($0).inserted }
        }
        var visited: Set<String> = []
        var result: [String] = []
        var seen: Set<String> = []
        func walk(from start: String) {
            var stack = [start]
            while let x = stack.popLast() {
                guard visited.insert(x).inserted, let e = self.exchanges[x] else { continue }
                for destination in e.router.route(routingKeys: routingKeys, headers: headers) {
                    switch destination {
                    case .queue(let q): if seen.insert(q).inserted { result.append(q) }
                    case .exchange(let y): stack.append(y)
                    }
                }
            }
        }
        walk(from: exchange)
        var current = exchange
        while result.isEmpty, let ae = self.exchanges[current]?.definition.alternateExchange, !visited.contains(ae) {
            walk(from: ae)
            current = ae
        }
        return result.filter { self.queues[$0] != nil }
    }

    /// Republishes messages that left `queue` to its dead-letter exchange with x-death recorded. A missing
    /// DLX drops them (as RabbitMQ does); cycles without a rejection are dropped too.
    func deadLetter(_ items: [(Message, DeadLetterReason)], queue: String, exchange: String,
                    routingKey: String?) async {
        guard let entry = self.exchanges[exchange], !items.isEmpty else { return }
        let now = UInt64(max(0, WallClock.nowMilliseconds()))
        var routed: [RoutedPublish] = []
        for (original, reason) in items {
            var message = original
            message.properties = DeathHeaders.recordDeath(
                original.properties, reason: reason, queue: queue, exchange: original.exchange,
                routingKeys: DeathHeaders.routingKeys(routingKey: original.routingKey,
                                                      headers: original.properties.headers),
                nowMilliseconds: now)
            message.exchange = exchange
            if let routingKey { message.routingKey = routingKey }
            let deaths = DeathHeaders.deaths(in: message.properties.headers)
            guard var item = self.prepare(message, exchange: exchange) else { continue }
            item.queues = item.queues.filter { !DeathHeaders.isCycle(targetQueue: $0.name, deaths: deaths) }
            if !item.queues.isEmpty { routed.append(item) }
        }
        guard !routed.isEmpty else { return }
        _ = await entry.actor.publish(routed)
    }
}
