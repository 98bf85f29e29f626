import CURing
import Glibc

extension RingLoop {
    /// Suspends for `duration` using `IORING_OP_TIMEOUT` (CLOCK_MONOTONIC).
    ///
    /// Callable from any isolation. Cancelling the task submits a timeout removal and waits for the
    /// timeout's CQE, then throws `CancellationError`.
    public func sleep(for duration: Duration, isolation: isolated (any Actor)? = #isolation) async throws {
        let operation = RingOperation(cancellation: .timeoutRemove)
        let timespec = UnsafeMutablePointer<__kernel_timespec>.allocate(capacity: 1)
        timespec.initialize(to: Self.timespec(duration))
        operation.timespec = timespec
        let result = await self.perform(operation, isolation: isolation) { sqe in
            io_uring_prep_timeout(sqe, operation.timespec, 0, 0)
        }
        if result == -ECANCELED { throw CancellationError() }
    }

    /// Calls `handler` on the loop thread after `duration` (no task involved). Loop thread only.
    ///
    /// Cheaper than a task that sleeps: no task, no async frames, only the handler and a timespec
    /// until the timeout's CQE. Code isolated to an actor pinned to this loop can get back into its
    /// isolation inside `handler` with `assumeIsolated`.
    /// - Returns: a token for `cancelTimer`.
    @discardableResult
    public func schedule(after duration: Duration, _ handler: @escaping () -> Void) -> UInt64 {
        let timespec = TimespecBox(Self.timespec(duration))
        return self.submit({ sqe in
            io_uring_prep_timeout(sqe, timespec.pointer, 0, 0)
        }) { result, _ in
            withExtendedLifetime(timespec) {}
            if result != -ECANCELED { handler() }
        }
    }

    /// Cancels a timer from `schedule(after:)` that has not fired yet; its handler is not called.
    /// Loop thread only.
    public func cancelTimer(_ token: UInt64) {
        self.removeTimeout(token)
    }

    static func timespec(_ duration: Duration) -> __kernel_timespec {
        let (seconds, attoseconds) = max(duration, .zero).components
        return __kernel_timespec(tv_sec: seconds, tv_nsec: attoseconds / 1_000_000_000)
    }
}

/// Heap storage for a timespec the kernel reads at submission.
final class TimespecBox {
    let pointer: UnsafeMutablePointer<__kernel_timespec>

    init(_ value: __kernel_timespec) {
        self.pointer = .allocate(capacity: 1)
        self.pointer.initialize(to: value)
    }

    deinit { self.pointer.deallocate() }
}
