import AOPClient
import AOPIO
import AOPStress
import Synchronization

/// What every worker of one run shares: settings, names, the event log, counters and id allocators.
final class RunContext: Sendable {
    let options: StressSettings
    let topology: StressTopology
    let log: EventLog
    let stats = RunStats()
    let runID: UInt32
    let loops: [RingLoop]
    /// Workers start no new operation after this.
    let deadline: ContinuousClock.Instant
    private let channelIDs = Atomic<UInt64>(0)
    private let producerIDs = Atomic<UInt32>(0)

    init(options: StressSettings, topology: StressTopology, runID: UInt32, loops: [RingLoop],
         deadline: ContinuousClock.Instant) {
        self.options = options
        self.topology = topology
        self.log = EventLog(topology: topology, keepEvents: options.eventsFile != nil)
        self.runID = runID
        self.loops = loops
        self.deadline = deadline
    }

    var expired: Bool { ContinuousClock.now >= self.deadline }

    /// Connections in use, so that a run that cannot end on its own can abort them all.
    let controls = Mutex<[ObjectIdentifier: ConnectionControl]>([:])

    func register(_ control: ConnectionControl) { self.controls.withLock { $0[ObjectIdentifier(control)] = control } }
    func unregister(_ control: ConnectionControl) { self.controls.withLock { $0[ObjectIdentifier(control)] = nil } }

    /// Operations that got no reply within `operationTimeout` (their connection was aborted).
    let stalls = Mutex<[String]>([])

    func recordStall(_ text: String) {
        stderr("aop-stress: stalled: \(text)\n")
        self.stalls.withLock { $0.append(text) }
    }

    /// A channel incarnation's id (unique in the run).
    func nextChannelID() -> UInt64 { self.channelIDs.wrappingAdd(1, ordering: .relaxed).newValue }
    /// A producer id: one per publishing channel incarnation (its sequence starts at 1).
    func nextProducerID() -> UInt32 { self.producerIDs.wrappingAdd(1, ordering: .relaxed).newValue }

    var clientConfiguration: AMQPClientConfiguration {
        AMQPClientConfiguration(host: self.options.host, port: self.options.port, user: self.options.user,
                                password: self.options.password, virtualHost: self.options.virtualHost,
                                heartbeat: 0)
    }

    func loop(for connection: Int) -> RingLoop { self.loops[connection % self.loops.count] }

    func queueName(_ ref: StressOperation.QueueRef) -> String {
        switch ref {
        case .stable(let i): self.topology.stableQueue(i)
        case .churn(let i): self.topology.churnQueue(i)
        }
    }

    /// Decodes a delivered body and records the delivery (or the corruption).
    /// - Returns: the message id when the body was intact.
    @discardableResult
    func recordDelivery(body: [UInt8], queue: String, channel: UInt64, consumerTag: String?, deliveryTag: UInt64,
                        redelivered: Bool, drain: Bool = false) -> MessageID? {
        let (event, id) = self.deliveryEvent(body: body, queue: queue, channel: channel, consumerTag: consumerTag,
                                             deliveryTag: deliveryTag, redelivered: redelivered, drain: drain)
        self.log.record(event)
        return id
    }

    /// Decodes a delivered body into the event to record: the delivery, or the corruption (with no id).
    func deliveryEvent(body: [UInt8], queue: String, channel: UInt64, consumerTag: String?, deliveryTag: UInt64,
                       redelivered: Bool, drain: Bool = false) -> (StressEvent, MessageID?) {
        switch MessageStamp.decode(body) {
        case .corrupt(let detail):
            return (.corrupt(channel: channel, queue: queue, detail: detail), nil)
        case .message(let run, let id):
            guard run == self.runID else {
                return (.corrupt(channel: channel, queue: queue, detail: "\(id) of another run (\(run))"), nil)
            }
            return (.delivered(DeliveryRecord(channel: channel, consumerTag: consumerTag, queue: queue,
                                              deliveryTag: deliveryTag, redelivered: redelivered,
                                              message: id, drain: drain)), id)
        }
    }
}

/// The command-line settings a run needs (separate from the ArgumentParser type, which is not Sendable).
struct StressSettings: Sendable {
    var host = "127.0.0.1"
    var port: UInt16 = 5672
    var user = "guest"
    var password = "guest"
    var virtualHost = "/"
    var connections = 4
    var channels = 4
    var duration: Duration = .seconds(30)
    var seed: UInt64 = 1
    var bodySize = 64
    var maxBatch = 20
    var connectionChurn = 1
    var opDelay: Duration = .zero
    var brokerPID: Int32?
    var rssSlackBytes: UInt64 = 64 << 20
    var drainTimeout: Duration = .seconds(60)
    var clientThreads = 1
    var keep = false
    var printLimit = 10
    /// Log every operation to stderr (AOP_STRESS_TRACE=1).
    var trace = false
    /// An operation waiting longer than this for the broker counts as a stall.
    var operationTimeout: Duration = .seconds(30)
    /// Write every event to this file at the end (for debugging a violation).
    var eventsFile: String?
    /// Count operations without a reply as violations (off by default: a client library can lose a
    /// reply too, and AOPClient does, also against RabbitMQ).
    var stallsAreViolations = false
}
