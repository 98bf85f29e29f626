import Synchronization

/// Accepted connections waiting for the consumer of `TCPListener.connections()`.
/// Filled on the listener's loop thread, drained from any task; one waiter at a time.
final class AcceptQueue: Sendable {
    private struct State {
        var pending: [TCPConnection] = []
        var waiter: UnsafeContinuation<TCPConnection?, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    /// Hands a connection to the waiter or buffers it. Returns false when the queue is finished.
    func push(_ connection: TCPConnection) -> Bool {
        let waiter: UnsafeContinuation<TCPConnection?, Never>? = self.state.withLock(orderedFor: self) { state in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending.append(connection)
            return nil
        }
        if let waiter {
            waiter.resume(returning: connection)
            return true
        }
        return self.state.withLock(orderedFor: self) { !$0.finished }
    }

    /// Ends the sequence once buffered connections are consumed.
    func finish() {
        let waiter = self.state.withLock(orderedFor: self) { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.pending.isEmpty ? state.waiter : nil
        }
        waiter?.resume(returning: nil)
    }

    func next(isolation: isolated (any Actor)?) async -> TCPConnection? {
        await withTaskCancellationHandler {
            await withUnsafeContinuation(isolation: isolation) { (continuation: UnsafeContinuation<TCPConnection?, Never>) in
                let immediate: TCPConnection?? = self.state.withLock(orderedFor: self) { state in
                    if !state.pending.isEmpty { return .some(state.pending.removeFirst()) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    precondition(state.waiter == nil, "concurrent next() on TCPListener.Connections")
                    state.waiter = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = self.state.withLock(orderedFor: self) { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
