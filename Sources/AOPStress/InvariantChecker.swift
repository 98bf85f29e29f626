/// Checks a run's event log against the invariants of issue #7 (Docs/Testing.md, "aop-stress").
///
/// Which invariant holds when (each exact, so a correct broker produces no violation):
/// - **lost**: only confirmed (basic.ack) publishes, only their stable queues (routes are fixed), and
///   only queues with no `lossAllowed` event. A delivery anywhere in the run or in the final drain
///   counts, whatever happened to it afterwards (a reject without requeue drops a message the client saw).
///   Unconfirmed publishes (no confirm mode, nacked, or their connection died first) are not checked.
/// - **duplicate**: at most one delivery per message and queue without the redelivered flag; a requeue
///   (nack/reject requeue, recover, channel close, connection loss) must set the flag. Holds for churn
///   queues too: one publish reaches one incarnation of a queue name at most once.
/// - **misordered**: per channel, consumer (or basic.get), queue and producer, deliveries without the
///   flag have increasing sequence numbers; requeued messages (flagged) may come back anywhere.
/// - **misrouted** / **returnedRoutable**: stable queues receive exactly what their bindings route.
/// - **deliveryAfterCancel**, **deliveryTagReused**, **unknownMessage**, **corrupt**: always.
public struct InvariantChecker: Sendable {
    public let topology: StressTopology

    /// Counts that describe a run (in the JSON summary).
    public struct Counts: Sendable, Hashable {
        public var published = 0
        public var confirmed = 0
        public var nacked = 0
        public var returned = 0
        public var deliveries = 0
        public var redeliveries = 0
        public var drained = 0
        /// Confirmed messages with at least one stable route: what the loss check covers.
        public var trackedMessages = 0
        /// (message, stable queue) pairs the loss check verified.
        public var trackedRoutes = 0
        public var lossAllowedQueues = 0
        public var unexpectedDeliveries = 0
    }

    public struct Result: Sendable {
        public var violations: [Violation]
        public var counts: Counts
    }

    private struct OrderKey: Hashable {
        var consumer: String
        var queue: UInt32
        var producer: UInt32
    }

    private struct RouteKey: Hashable {
        var message: MessageID
        var queue: UInt32
    }

    /// What is kept per publish: the interned exchange and routing key, and the flags.
    private struct Publish {
        var exchange: UInt32
        var routingKey: UInt32
        var acked = false
    }

    // Strings are interned: a long run keeps millions of records.
    private var names: [String: UInt32] = [:]
    private var nameList: [String] = []
    private var published: [MessageID: Publish] = [:]
    private var lossAllowed: Set<String> = []
    private var delivered: [RouteKey: UInt32] = [:]   // unflagged deliveries + 1 (so present = delivered)
    /// Per channel and key: the unflagged deliveries (delivery tag, sequence), checked in delivery-tag order
    /// (the order the broker sent them) when the channel ends.
    private var unflaggedByChannel: [UInt64: [OrderKey: [(tag: UInt64, sequence: UInt64)]]] = [:]
    private var tags: [UInt64: Set<UInt64>] = [:]
    private let stable: Set<String>
    public private(set) var violations: [Violation] = []
    public private(set) var counts = Counts()

    public init(topology: StressTopology) {
        self.topology = topology
        self.stable = Set(topology.stableQueues)
    }

    /// Checks a whole log at once.
    public static func check(_ events: [StressEvent], topology: StressTopology) -> Result {
        var checker = InvariantChecker(topology: topology)
        for event in events { checker.observe(event) }
        return checker.finish()
    }

    private mutating func intern(_ name: String) -> UInt32 {
        if let id = self.names[name] { return id }
        let id = UInt32(self.nameList.count)
        self.names[name] = id
        self.nameList.append(name)
        return id
    }

    private mutating func noteTag(_ channel: UInt64, _ tag: UInt64) {
        if !self.tags[channel, default: []].insert(tag).inserted {
            self.violations.append(Violation(.deliveryTagReused, "delivery tag \(tag) twice on channel \(channel)"))
        }
    }

    /// Feeds one event (in the order its channel observed it).
    public mutating func observe(_ event: StressEvent) {
        switch event {
        case .published(let record):
            self.counts.published += 1
            self.published[record.id] = Publish(exchange: self.intern(record.exchange),
                                                routingKey: self.intern(record.routingKey))
        case .confirmed(let id, let ack):
            if ack {
                self.counts.confirmed += 1
                self.published[id]?.acked = true
            } else {
                self.counts.nacked += 1
            }
        case .returned(let id):
            self.counts.returned += 1
            if let p = self.published[id] {
                let (exchange, key) = (self.nameList[Int(p.exchange)], self.nameList[Int(p.routingKey)])
                if let routes = self.topology.stableRoutes(exchange: exchange, routingKey: key), !routes.isEmpty {
                    self.violations.append(Violation(.returnedRoutable,
                        "\(id) to '\(exchange)' key '\(key)' returned, but \(routes.sorted()) are bound"))
                }
            }
        case .delivered(let d):
            self.observeDelivery(d)
        case .unexpectedDelivery(let channel, let consumerTag, let deliveryTag):
            self.counts.unexpectedDeliveries += 1
            self.noteTag(channel, deliveryTag)
            self.violations.append(Violation(.deliveryAfterCancel,
                "delivery tag \(deliveryTag) for consumer '\(consumerTag)' after its cancel-ok on channel \(channel)"))
        case .corrupt(let channel, let queue, let detail):
            self.violations.append(Violation(.corrupt, "from \(queue) on channel \(channel): \(detail)"))
        case .lossAllowed(let queue, _):
            self.lossAllowed.insert(queue)
        case .channelEnded(let channel):
            self.tags[channel] = nil
            self.checkOrder(channel: channel)
        }
    }

    private mutating func observeDelivery(_ d: DeliveryRecord) {
        self.counts.deliveries += 1
        if d.redelivered { self.counts.redeliveries += 1 }
        if d.drain { self.counts.drained += 1 }
        self.noteTag(d.channel, d.deliveryTag)
        guard let p = self.published[d.message] else {
            self.violations.append(Violation(.unknownMessage,
                "\(d.message) delivered from \(d.queue) on channel \(d.channel) was never published"))
            return
        }
        let (exchange, key) = (self.nameList[Int(p.exchange)], self.nameList[Int(p.routingKey)])
        if self.stable.contains(d.queue) {
            let routes = self.topology.stableRoutes(exchange: exchange, routingKey: key) ?? []
            if !routes.contains(d.queue) {
                self.violations.append(Violation(.misrouted,
                    "\(d.message) published to '\(exchange)' key '\(key)' arrived from \(d.queue)"))
            }
        }
        let queue = self.intern(d.queue)
        let routeKey = RouteKey(message: d.message, queue: queue)
        var seen = self.delivered[routeKey] ?? 1
        if !d.redelivered {
            seen += 1
            if seen == 3 {
                self.violations.append(Violation(.duplicate,
                    "\(d.message) delivered twice from \(d.queue) without redelivered (again on channel \(d.channel), tag \(d.deliveryTag))"))
            }
            let order = OrderKey(consumer: d.consumerTag ?? "<get>", queue: queue, producer: d.message.producer)
            self.unflaggedByChannel[d.channel, default: [:]][order, default: []].append((d.deliveryTag, d.message.sequence))
        }
        self.delivered[routeKey] = seen
    }

    /// Per producer, the unflagged deliveries a consumer (or basic.get) received on a channel, taken in
    /// delivery-tag order (the broker's sending order, whatever order a client library hands them over
    /// in), must have increasing sequence numbers.
    private mutating func checkOrder(channel: UInt64) {
        guard let keys = self.unflaggedByChannel.removeValue(forKey: channel) else { return }
        for (key, deliveries) in keys where deliveries.count > 1 {
            var last: (tag: UInt64, sequence: UInt64)?
            for d in deliveries.sorted(by: { $0.tag < $1.tag }) {
                if let last, d.sequence <= last.sequence {
                    self.violations.append(Violation(.misordered,
                        "p\(key.producer)#\(d.sequence) (tag \(d.tag)) after p\(key.producer)#\(last.sequence) (tag \(last.tag)) from \(self.nameList[Int(key.queue)]) to \(key.consumer) on channel \(channel)"))
                }
                last = d
            }
        }
    }

    /// The loss check (needs the whole run, drain included) and the result.
    public mutating func finish() -> Result {
        for channel in Array(self.unflaggedByChannel.keys) { self.checkOrder(channel: channel) }
        var violations = self.violations
        var counts = self.counts
        counts.lossAllowedQueues = self.lossAllowed.count
        for (id, p) in self.published.sorted(by: { $0.key < $1.key }) where p.acked {
            let (exchange, key) = (self.nameList[Int(p.exchange)], self.nameList[Int(p.routingKey)])
            guard let routes = self.topology.stableRoutes(exchange: exchange, routingKey: key), !routes.isEmpty
            else { continue }
            counts.trackedMessages += 1
            for queue in routes.sorted() where !self.lossAllowed.contains(queue) {
                counts.trackedRoutes += 1
                let delivered = self.names[queue].map { self.delivered[RouteKey(message: id, queue: $0)] != nil } ?? false
                if !delivered {
                    violations.append(Violation(.lost,
                        "\(id) (confirmed, '\(exchange)' key '\(key)') never delivered from \(queue) nor left in it"))
                }
            }
        }
        return Result(violations: violations, counts: counts)
    }
}
