import AOPClient
import Synchronization
import Testing

/// Runs `body` in its own task and waits at most `seconds` for it. On time out it records an issue, aborts
/// `connection` (which must end whatever `body` waits for) and returns nil, so a hang fails the test
/// instead of stalling the run.
func withDeadline<T: Sendable>(
    _ seconds: Double, aborting connection: AMQPClientConnection, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T? {
    let done = DoneFlag()
    let task = Task {
        defer { done.value.store(true, ordering: .releasing) }
        return try await body()
    }
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while !done.value.load(ordering: .acquiring) {
        if ContinuousClock.now >= deadline {
            Issue.record("no result within \(seconds) s", sourceLocation: sourceLocation)
            await connection.abort()
            _ = try? await task.value
            return nil
        }
        try await Task.sleep(for: .milliseconds(5))
    }
    return try await task.value
}

/// Set when a `withDeadline` body has returned.
final class DoneFlag: Sendable {
    let value = Atomic<Bool>(false)
}
