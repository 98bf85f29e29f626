/// The exchanges and queues of one run, and where a publish to a stable exchange must end up.
///
/// Stable queues are declared and bound before the workers start and are never unbound, purged or
/// deleted during the run, so the routes of a publish to a stable exchange are known exactly: that is
/// what makes the loss, duplicate, order and misrouting checks exact. Churn exchanges and queues are
/// declared, bound (also to the stable exchanges), unbound and deleted at random; their messages are
/// checked only for what holds under any churn (no unflagged duplicates, order, delivery tags).
public struct StressTopology: Sendable, Hashable {
    /// Prefix of every name of the run (so runs never share state on a broker).
    public var prefix: String
    public var stableQueueCount: Int
    public var churnExchangeCount: Int
    public var churnQueueCount: Int

    public init(prefix: String, stableQueueCount: Int = 4, churnExchangeCount: Int = 3, churnQueueCount: Int = 4) {
        precondition(stableQueueCount >= 2, "at least two stable queues")
        self.prefix = prefix
        self.stableQueueCount = stableQueueCount
        self.churnExchangeCount = max(1, churnExchangeCount)
        self.churnQueueCount = max(1, churnQueueCount)
    }

    public var directExchange: String { "\(self.prefix).direct" }
    public var topicExchange: String { "\(self.prefix).topic" }
    public var fanoutExchange: String { "\(self.prefix).fanout" }
    public var stableExchanges: [(name: String, type: String)] {
        [(self.directExchange, "direct"), (self.topicExchange, "topic"), (self.fanoutExchange, "fanout")]
    }
    public var stableQueues: [String] { (0..<self.stableQueueCount).map(self.stableQueue) }
    public func stableQueue(_ i: Int) -> String { "\(self.prefix).s\(i)" }
    public func churnQueue(_ i: Int) -> String { "\(self.prefix).cq\(i)" }
    public func churnExchange(_ i: Int) -> String { "\(self.prefix).ce\(i)" }
    public func churnExchangeType(_ i: Int) -> String { ["direct", "fanout", "topic"][i % 3] }
    /// An exchange that is never declared (publishing to it closes the channel with 404).
    public var missingExchange: String { "\(self.prefix).missing" }

    /// The bindings of the stable queues, made once before the run: (queue, exchange, routing key).
    ///
    /// direct: `k<i>` → s<i> and s<i+1>; topic: `t.<i>.*` → s<i>, `t.#` → s0; fanout → s0 and the last.
    public var stableBindings: [(queue: String, exchange: String, key: String)] {
        var out: [(String, String, String)] = []
        let n = self.stableQueueCount
        for i in 0..<n {
            out.append((self.stableQueue(i), self.directExchange, "k\(i)"))
            out.append((self.stableQueue((i + 1) % n), self.directExchange, "k\(i)"))
            out.append((self.stableQueue(i), self.topicExchange, "t.\(i).*"))
        }
        out.append((self.stableQueue(0), self.topicExchange, "t.#"))
        out.append((self.stableQueue(0), self.fanoutExchange, ""))
        out.append((self.stableQueue(n - 1), self.fanoutExchange, ""))
        return out
    }

    /// Routing keys publishers use (some route nowhere, for mandatory returns).
    public var routingKeys: [String] {
        (0..<self.stableQueueCount).flatMap { ["k\($0)", "t.\($0).x"] } + ["t.none", "nowhere", "u.x"]
    }

    /// The stable queues a publish reaches, or nil when the exchange is not stable (not tracked).
    /// Messages may also reach churn queues bound meanwhile; those are not listed.
    public func stableRoutes(exchange: String, routingKey: String) -> Set<String>? {
        if exchange.isEmpty {
            return self.stableQueues.contains(routingKey) ? [routingKey] : []
        }
        guard self.stableExchanges.contains(where: { $0.name == exchange }) else { return nil }
        var out: Set<String> = []
        for binding in self.stableBindings where binding.exchange == exchange {
            if Self.matches(binding: binding.key, key: routingKey, type: self.type(of: exchange)) {
                out.insert(binding.queue)
            }
        }
        return out
    }

    private func type(of exchange: String) -> String {
        self.stableExchanges.first { $0.name == exchange }?.type ?? "direct"
    }

    /// Direct, fanout or topic matching (`*` one word, `#` zero or more).
    static func matches(binding: String, key: String, type: String) -> Bool {
        switch type {
        case "fanout": return true
        case "topic": return Self.topicMatches(binding.split(separator: ".", omittingEmptySubsequences: false)[...],
                                               key.split(separator: ".", omittingEmptySubsequences: false)[...])
        default: return binding == key
        }
    }

    private static func topicMatches(_ pattern: ArraySlice<Substring>, _ words: ArraySlice<Substring>) -> Bool {
        guard let first = pattern.first else { return words.isEmpty }
        if first == "#" {
            let rest = pattern.dropFirst()
            for skip in 0...words.count where Self.topicMatches(rest, words.dropFirst(skip)) { return true }
            return false
        }
        guard let word = words.first else { return false }
        return (first == "*" || first == word) && Self.topicMatches(pattern.dropFirst(), words.dropFirst())
    }
}
