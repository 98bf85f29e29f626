import AOPClient
import Synchronization

/// Ends one client connection once: a graceful close (aborted if it takes more than 5 s) or an abort.
final class ConnectionControl: Sendable {
    enum End: Sendable { case close, abort }

    let connection: AMQPClientConnection
    private let ended = Atomic<Bool>(false)
    /// The operation each channel is in, and since when (for the watchdog).
    private let inProgress = Mutex<[UInt64: (kind: String, since: ContinuousClock.Instant)]>([:])

    init(_ connection: AMQPClientConnection) { self.connection = connection }

    /// True once `end` ran (channel workers stop starting operations).
    var isEnding: Bool { self.ended.load(ordering: .acquiring) }

    func begin(channel: UInt64, _ kind: String) {
        self.inProgress.withLock { $0[channel] = (kind, .now) }
    }

    func done(channel: UInt64) {
        self.inProgress.withLock { $0[channel] = nil }
    }

    /// The longest-running operation: channel, kind and how long.
    func oldest() -> (channel: UInt64, kind: String, age: Duration)? {
        let now = ContinuousClock.now
        return self.inProgress.withLock { ops in
            ops.min { $0.value.since < $1.value.since }.map { ($0.key, $0.value.kind, now - $0.value.since) }
        }
    }

    func end(_ how: End) async {
        guard !self.ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
        switch how {
        case .abort:
            await self.connection.abort()
        case .close:
            let connection = self.connection
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await connection.close() }
                group.addTask {
                    do {
                        try await Task.sleep(for: .seconds(5))
                        await connection.abort()
                    } catch {}
                }
                await group.next()
                group.cancelAll()
            }
        }
    }
}
