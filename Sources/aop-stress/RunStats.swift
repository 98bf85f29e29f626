import Synchronization

/// Counters of what the workers did (operations by kind, errors by cause), shared by all of them.
final class RunStats: Sendable {
    struct Snapshot: Sendable {
        var operations: [String: Int] = [:]
        var channelErrors: [String: Int] = [:]
        var connectionEnds: [String: Int] = [:]
        var connects = 0
        var connectFailures = 0
        var channelsOpened = 0
        var clientErrors: [String] = []
        /// Deliveries that arrived after their channel had closed (discarded by the client).
        var deliveriesAfterClose = 0
    }
    private let state = Mutex(Snapshot())

    func operation(_ kind: String) { self.state.withLock { $0.operations[kind, default: 0] += 1 } }
    func channelError(_ key: String) { self.state.withLock { $0.channelErrors[key, default: 0] += 1 } }
    func connectionEnded(_ key: String) { self.state.withLock { $0.connectionEnds[key, default: 0] += 1 } }
    func connected() { self.state.withLock { $0.connects += 1 } }
    func connectFailed() { self.state.withLock { $0.connectFailures += 1 } }
    func deliveriesAfterClose(_ count: Int) {
        guard count > 0 else { return }
        self.state.withLock { $0.deliveriesAfterClose += count }
    }
    func channelOpened() { self.state.withLock { $0.channelsOpened += 1 } }
    /// Something the tool did not expect of the client (kept for the report, first 20).
    func clientError(_ text: String) {
        self.state.withLock { if $0.clientErrors.count < 20 { $0.clientErrors.append(text) } }
    }
    var snapshot: Snapshot { self.state.withLock { $0 } }
}
