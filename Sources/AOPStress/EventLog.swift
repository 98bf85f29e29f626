import Synchronization

/// The run's event sink, shared by every worker: events go straight into an `InvariantChecker`
/// (nothing is kept but what the checks need), optionally also into a list (tests, `--keep-events`).
public final class EventLog: Sendable {
    private struct State {
        var checker: InvariantChecker
        var events: [StressEvent]?
    }
    private let state: Mutex<State>

    public init(topology: StressTopology, keepEvents: Bool = false) {
        self.state = Mutex(State(checker: InvariantChecker(topology: topology), events: keepEvents ? [] : nil))
    }

    public func record(_ event: StressEvent) {
        self.state.withLock { state in
            state.checker.observe(event)
            state.events?.append(event)
        }
    }

    public func record(_ events: [StressEvent]) {
        guard !events.isEmpty else { return }
        self.state.withLock { state in
            for event in events { state.checker.observe(event) }
            state.events?.append(contentsOf: events)
        }
    }

    /// The events so far (empty unless kept).
    public var events: [StressEvent] { self.state.withLock { $0.events ?? [] } }

    /// Violations found so far (all but losses, which need the end of the run).
    public var violationCount: Int { self.state.withLock { $0.checker.violations.count } }

    /// Runs the end-of-run checks.
    public func finish() -> InvariantChecker.Result { self.state.withLock { $0.checker.finish() } }
}
