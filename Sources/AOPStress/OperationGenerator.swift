/// Produces a channel's seeded operation stream.
///
/// No-ack consumers and no-ack gets only read churn queues: a no-ack delivery in flight when its
/// connection dies is gone without a trace, which would make losses on stable queues unprovable (a run
/// with many aborts would exempt every stable queue). Stable queues are read by ack-mode consumers and gets.
public struct OperationGenerator: Sendable {
    /// Relative weights of the operation kinds.
    public struct Weights: Sendable, Hashable {
        public var publish = 30
        public var consume = 6
        public var cancel = 3
        public var get = 6
        public var settle = 14
        public var recover = 1
        public var qos = 2
        public var churnDefinition = 8
        public var bind = 4
        public var closeChannel = 1
        public var closeConnection: Int
        public var abortConnection: Int

        /// - Parameter connectionChurn: weight of connection close and of abort (0 keeps connections).
        public init(connectionChurn: Int = 1) {
            self.closeConnection = connectionChurn
            self.abortConnection = connectionChurn
        }

        var list: [Int] {
            [self.publish, self.consume, self.cancel, self.get, self.settle, self.recover, self.qos,
             self.churnDefinition, self.bind, self.closeChannel, self.closeConnection, self.abortConnection]
        }
    }

    public let topology: StressTopology
    public var weights: Weights
    /// Largest batch of one publish operation.
    public var maxBatch: Int
    var random: StressRandom

    public init(topology: StressTopology, seed: UInt64, connection: Int, channel: Int, weights: Weights = Weights(),
                maxBatch: Int = 20) {
        self.topology = topology
        self.weights = weights
        self.maxBatch = max(1, maxBatch)
        self.random = StressRandom(seed: seed, stream: UInt64(connection), UInt64(channel))
    }

    /// Whether the channel uses publisher confirms (decided once per channel incarnation).
    public mutating func confirmMode() -> Bool { self.random.chance(0.7) }

    public mutating func next() -> StressOperation {
        switch self.random.weighted(self.weights.list) {
        case 0: return self.publish()
        case 1:
            let noAck = self.random.chance(0.25)
            let queue: StressOperation.QueueRef = noAck ? .churn(self.churnQueueIndex()) : self.anyQueue(stableBias: 0.8)
            let policy: StressOperation.SettlePolicy = [.ackEach, .hold, .mixed][self.random.int(in: 0...2)]
            return .consume(queue: queue, noAck: noAck, policy: policy, seed: self.random.next())
        case 2: return .cancel(pick: self.pick())
        case 3:
            let noAck = self.random.chance(0.3)
            return .get(queue: noAck ? .churn(self.churnQueueIndex()) : self.anyQueue(stableBias: 0.7), noAck: noAck)
        case 4:
            let requeue = self.random.chance(0.6)
            let settlement: StressOperation.Settlement = switch self.random.int(in: 0...5) {
            case 0...2: .ack
            case 3, 4: .nack(requeue: requeue)
            default: .reject(requeue: requeue)
            }
            let multiple: Bool = if case .reject = settlement { false } else { self.random.chance(0.3) }
            return .settle(settlement, multiple: multiple, pick: self.pick())
        case 5: return .recover
        case 6: return .qos(prefetch: UInt16(self.random.int(in: 0...30)), global: self.random.chance(0.3))
        case 7:
            switch self.random.int(in: 0...3) {
            case 0: return .declareExchange(self.random.int(in: 0...(self.topology.churnExchangeCount - 1)))
            case 1: return .deleteExchange(self.random.int(in: 0...(self.topology.churnExchangeCount - 1)))
            case 2: return .declareQueue(self.churnQueueIndex())
            default: return .deleteQueue(self.churnQueueIndex())
            }
        case 8:
            let exchange = self.random.chance(0.5)
                ? self.topology.stableExchanges[self.random.int(in: 0...2)].name
                : self.topology.churnExchange(self.random.int(in: 0...(self.topology.churnExchangeCount - 1)))
            let key = self.routingKey()
            let queue = self.churnQueueIndex()
            return self.random.chance(0.6)
                ? .bind(queue: queue, exchange: exchange, routingKey: key)
                : .unbind(queue: queue, exchange: exchange, routingKey: key)
        case 9: return .closeChannel
        case 10: return .closeConnection
        default: return .abortConnection
        }
    }

    private mutating func publish() -> StressOperation {
        let exchange: String
        var key = self.routingKey()
        switch self.random.int(in: 0...99) {
        case 0..<25: exchange = self.topology.directExchange
        case 25..<45: exchange = self.topology.topicExchange
        case 45..<55: exchange = self.topology.fanoutExchange
        case 55..<75:
            exchange = ""
            key = self.random.chance(0.8)
                ? self.topology.stableQueue(self.random.int(in: 0...(self.topology.stableQueueCount - 1)))
                : self.topology.churnQueue(self.churnQueueIndex())
        case 75..<99:
            exchange = self.topology.churnExchange(self.random.int(in: 0...(self.topology.churnExchangeCount - 1)))
        default:
            exchange = self.topology.missingExchange
        }
        let count = self.random.int(in: 1...self.maxBatch)
        return .publish(exchange: exchange, routingKey: key, count: count, mandatory: self.random.chance(0.3),
                        persistent: self.random.chance(0.5))
    }

    private mutating func anyQueue(stableBias: Double) -> StressOperation.QueueRef {
        self.random.chance(stableBias)
            ? .stable(self.random.int(in: 0...(self.topology.stableQueueCount - 1)))
            : .churn(self.churnQueueIndex())
    }

    private mutating func churnQueueIndex() -> Int { self.random.int(in: 0...(self.topology.churnQueueCount - 1)) }
    private mutating func routingKey() -> String {
        let keys = self.topology.routingKeys
        return keys[self.random.int(in: 0...(keys.count - 1))]
    }
    private mutating func pick() -> Int { self.random.int(in: 0...1_000_000) }
}
