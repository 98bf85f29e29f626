@_exported public import AOPBroker
@_exported public import AOPWire
public import Logging
import Synchronization

/// An aop broker inside your process: declare, publish, consume and get through Swift calls, and
/// optionally serve stock AMQP 0-9-1 clients over TCP from the same queues.
///
/// Start it with ``start()`` and stop it with ``shutdown()``, run it as a swift-service-lifecycle
/// `Service` (``run()``), or scope it with ``with(configuration:logger:isolation:_:)``.
/// Every operation throws ``EmbeddedBrokerError`` (it carries the AMQP reply code) and `.notRunning`
/// before start and after shutdown.
public final class EmbeddedBroker: Sendable {
    enum Lifecycle {
        case idle
        case starting(Task<EmbeddedRuntime, any Error>)
        case running(EmbeddedRuntime)
        case stopping(Task<Void, Never>)
        case stopped
    }

    public let configuration: EmbeddedConfiguration
    let logger: Logger
    let lifecycle = Mutex(Lifecycle.idle)

    /// - Parameters:
    ///   - configuration: storage, listeners and broker settings.
    ///   - logger: the broker's logger; silent by default.
    public init(configuration: EmbeddedConfiguration = EmbeddedConfiguration(),
                logger: Logger = Logger(label: "aop.embedded", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Opens storage (loading durable definitions and messages), starts the broker and binds the
    /// listeners. Idempotent: concurrent and repeated calls wait for the same start. After
    /// ``shutdown()`` it throws `.notRunning`.
    public func start() async throws(EmbeddedBrokerError) {
        let task: Task<EmbeddedRuntime, any Error>? = try self.lifecycle.withLock { state throws(EmbeddedBrokerError) in
            switch state {
            case .idle:
                let configuration = self.configuration
                let logger = self.logger
                let task = Task<EmbeddedRuntime, any Error> {
                    try await EmbeddedRuntime.open(configuration, logger: logger)
                }
                state = .starting(task)
                return task
            case .starting(let task):
                return task
            case .running:
                return nil
            case .stopping, .stopped:
                throw .notRunning
            }
        }
        guard let task else { return }
        do {
            let runtime = try await task.value
            self.lifecycle.withLock { state in
                if case .starting = state { state = .running(runtime) }
            }
        } catch {
            self.lifecycle.withLock { state in
                if case .starting = state { state = .stopped }
            }
            throw error as? EmbeddedBrokerError ?? .notRunning
        }
    }

    /// Stops the listeners and closes TCP clients (320 CONNECTION_FORCED), ends every in-process
    /// consumer (their sequences finish; unsettled deliveries are requeued), deletes in-process exclusive
    /// queues and closes storage. Returns when all of that is done; later operations throw `.notRunning`.
    public func shutdown() async {
        while true {
            enum Step {
                case done
                case waitForStart(Task<EmbeddedRuntime, any Error>)
                case waitForStop(Task<Void, Never>)
            }
            let step: Step = self.lifecycle.withLock { state in
                switch state {
                case .idle, .stopped:
                    state = .stopped
                    return .done
                case .starting(let task):
                    return .waitForStart(task)
                case .running(let runtime):
                    let task = Task { await runtime.shutdown() }
                    state = .stopping(task)
                    return .waitForStop(task)
                case .stopping(let task):
                    return .waitForStop(task)
                }
            }
            switch step {
            case .done:
                return
            case .waitForStart(let task):
                let runtime = try? await task.value
                // start() moves the state on too; whoever comes first does it, so a runtime that
                // opened is always shut down by the next turn of this loop.
                self.lifecycle.withLock { state in
                    guard case .starting = state else { return }
                    state = runtime.map { .running($0) } ?? .stopped
                }
            case .waitForStop(let task):
                await task.value
                self.lifecycle.withLock { $0 = .stopped }
                return
            }
        }
    }

    /// True between a successful ``start()`` and ``shutdown()``.
    public var isRunning: Bool {
        self.lifecycle.withLock { if case .running = $0 { true } else { false } }
    }

    /// The bound TCP ports, in the order of ``EmbeddedConfiguration/listeners`` (empty when not running).
    public var listenerPorts: [UInt16] {
        self.lifecycle.withLock { if case .running(let r) = $0 { r.listenerPorts } else { [] } }
    }

    /// The underlying broker, for what the embedded API does not cover (alarms, connection count).
    public var broker: Broker {
        get throws(EmbeddedBrokerError) { try self.runtime().broker }
    }

    func runtime() throws(EmbeddedBrokerError) -> EmbeddedRuntime {
        guard let runtime = self.lifecycle.withLock({ state -> EmbeddedRuntime? in
            if case .running(let r) = state { r } else { nil }
        }) else { throw .notRunning }
        return runtime
    }

    func virtualHost(_ name: String) throws(EmbeddedBrokerError) -> VirtualHost {
        try self.runtime().virtualHost(name)
    }
}
