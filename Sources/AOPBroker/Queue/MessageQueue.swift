public import AOPWire
import AOPStorage
import DequeModule

/// A queue: its index topics (one per priority level), consumers and unsettled deliveries.
///
/// Ready entries live in the index topics; only a bounded window per level is in memory
/// (`windowCapacity`), and bodies are fetched from the exchanges' message topics when delivered, in
/// batches. Acknowledgements go to the level's durable consumption cursor, so a restart redelivers
/// exactly the unacknowledged entries.
public actor MessageQueue {
    enum Lifecycle { case running, deleted }

    /// A delivery waiting for settlement.
    struct Unacked: Sendable {
        var level: Int
        var ready: ReadyEntry
        /// Internal consumer id; nil for basic.get.
        var consumer: UInt64?
    }

    /// An entry leaving the queue through the dead-letter path (or dropped when there is no DLX).
    struct DeadLetterItem: Sendable {
        var level: Int
        var ready: ReadyEntry
        var reason: DeadLetterReason
    }

    static let windowCapacity = 1024
    static let refillThreshold = 256
    static let dispatchBatch = 256
    static let consumptionCursor = "consumption"

    public nonisolated let name: String
    nonisolated let placement: ActorExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { self.placement.executor }
    nonisolated let vhostName: String
    weak var vhost: VirtualHost?
    let storage: (any StorageEngine)?
    let topics: MessageTopics
    var definition: QueueDefinition
    let policy: QueuePolicy

    var lifecycle: Lifecycle
    var levels: [IndexLevel]
    var readyCount = 0
    var readyBytes = 0
    /// Highest message position indexed per message topic (crash-replay deduplication).
    var lastIndexed: [UInt32: Position] = [:]
    /// Bumped by purge so window loads that were in flight are discarded.
    var generation = 0

    var consumers: ConsumerSet
    var nextConsumerID: UInt64 = 1
    var hadConsumer = false
    var unacked: [UInt64: Unacked] = [:]
    var nextDeliveryID: UInt64 = 1

    /// Callers waiting for an in-flight window load.
    var loadWaiters: [CheckedContinuation<Void, Never>] = []
    var dispatchScheduled = false
    var dispatchRunning = false
    var deadLetters: Deque<DeadLetterItem> = []
    /// Body fetches in progress (their entries are in no other collection meanwhile).
    var fetchesInFlight = 0
    var deadLetterRunning = false
    /// Reused for the message positions of each retain/release (`MessageTopics`): no array per batch.
    var positionScratch: [Position] = []

    var expiryTimer: Task<Void, Never>?
    var expiryDeadline: Int64?
    var idleTimer: Task<Void, Never>?
    var lastUsed: Int64

    /// A detached queue that holds nothing (its operations find no queue). The broker creates real
    /// queues through `VirtualHost.declareQueue`; this exists for tests that need a `QueueHandle`.
    public init(name: String) {
        self.name = name
        self.placement = .standalone()
        self.vhostName = ""
        self.storage = nil
        self.topics = MessageTopics()
        self.definition = QueueDefinition(name: name, durable: false, exclusiveOwner: nil, autoDelete: false,
                                          arguments: [:])
        self.policy = QueuePolicy()
        self.lifecycle = .deleted
        self.levels = []
        self.consumers = ConsumerSet(singleActive: false)
        self.lastUsed = WallClock.nowMilliseconds()
    }

    init(definition: QueueDefinition, policy: QueuePolicy, vhost: VirtualHost, vhostName: String,
         storage: any StorageEngine, topics: MessageTopics, levels: [IndexLevel], executor: ActorExecutor) {
        self.name = definition.name
        self.placement = executor
        self.vhostName = vhostName
        self.vhost = vhost
        self.storage = storage
        self.topics = topics
        self.definition = definition
        self.policy = policy
        self.lifecycle = .running
        self.levels = levels
        self.consumers = ConsumerSet(singleActive: policy.singleActiveConsumer)
        self.lastUsed = WallClock.nowMilliseconds()
    }

    var resourceName: String { "queue '\(self.name)' in vhost '\(self.vhostName)'" }

    // MARK: public API (the contract used by the connection layer)

    /// Registers a consumer; deliveries start at once, within its credit. An exclusive consumer when
    /// others exist, or any consumer when an exclusive one exists → 403 ACCESS_REFUSED.
    public func consume(_ consumer: ConsumerRegistration) async throws(AMQPError) {
        guard case .running = self.lifecycle else { throw .notFound("no \(self.resourceName)") }
        if self.consumers.hasExclusive || (consumer.exclusive && !self.consumers.isEmpty) {
            throw .accessRefused("\(self.resourceName) in exclusive use")
        }
        self.consumers.add(consumer, id: self.nextConsumerID)
        self.nextConsumerID += 1
        self.hadConsumer = true
        self.lastUsed = WallClock.nowMilliseconds()
        self.scheduleDispatch()
    }

    /// Removes a consumer (its unsettled deliveries stay with the channel). Auto-delete queues go when
    /// their last consumer does.
    public func cancel(consumerTag: String) async {
        guard self.consumers.remove(tag: consumerTag) != nil else { return }
        self.lastUsed = WallClock.nowMilliseconds()
        guard case .running = self.lifecycle else { return }
        if self.consumers.isEmpty, self.definition.autoDelete, self.hadConsumer {
            await self.vhost?.removeQueue(self, reason: "auto-delete")
            return
        }
        self.scheduleDispatch()   // SAC: the next consumer becomes active
    }

    /// basic.get: the next ready message, or nil. noAck settles it at once.
    public func get(noAck: Bool) async throws(AMQPError) -> Delivery? {
        guard case .running = self.lifecycle else { throw .notFound("no \(self.resourceName)") }
        self.lastUsed = WallClock.nowMilliseconds()
        return await self.takeOne(noAck: noAck)
    }

    /// Settles deliveries by their queue-local ids.
    public func settle(_ deliveryIDs: [UInt64], _ settlement: Settlement) async {
        await self.settleDeliveries(deliveryIDs, settlement)
    }

    /// A channel released credit (acks, qos change): resume deliveries to consumers that had none.
    public func creditAvailable() {
        self.scheduleDispatch()
    }
}
