import CURing
import Glibc
import Synchronization

/// One awaitable io_uring operation, shared by the awaiting task, the loop thread and a
/// cancellation handler that may run on any thread.
///
/// `@unchecked Sendable`: `userData`, `state` and `keepAlive` are only touched on the loop thread;
/// `cancelled` is atomic; `timespec` is written before the operation is handed to the loop and freed
/// in `deinit`, which runs after the final CQE released the last reference.
final class RingOperation: @unchecked Sendable {
    enum Cancellation {
        /// Not cancellable (file I/O: the data must land or fail on its own).
        case none
        /// `IORING_OP_ASYNC_CANCEL`.
        case asyncCancel
        /// `IORING_OP_TIMEOUT_REMOVE`.
        case timeoutRemove
    }

    enum State { case notSubmitted, inFlight, completed }

    let cancellation: Cancellation
    var userData: UInt64 = 0
    var state = State.notSubmitted
    let cancelled = Atomic<Bool>(false)
    /// Storage the kernel reads (buffers, a timespec); kept alive until the final CQE.
    var keepAlive: AnyObject?
    var timespec: UnsafeMutablePointer<__kernel_timespec>?

    init(cancellation: Cancellation, keepAlive: AnyObject? = nil) {
        self.cancellation = cancellation
        self.keepAlive = keepAlive
    }

    deinit {
        self.timespec?.deallocate()
    }
}

extension RingLoop {
    /// Submits one operation and suspends until its CQE, from any isolation. On the loop thread the
    /// SQE is prepared directly; elsewhere it is handed to the loop. The continuation is resumed only
    /// by the CQE (or, if cancellation came before submission, without submitting anything).
    ///
    /// - Parameters:
    ///   - operation: cancellation kind and storage the kernel uses until the CQE.
    ///   - prepare: fills the SQE; runs on the loop thread.
    /// - Returns: the CQE's `res`.
    func perform(
        _ operation: RingOperation,
        isolation: isolated (any Actor)? = #isolation,
        _ prepare: @escaping @Sendable (UnsafeMutablePointer<io_uring_sqe>) -> Void
    ) async -> Int32 {
        if operation.cancellation == .none {
            return await withUnsafeContinuation(isolation: isolation) { continuation in
                if !self.execute({ self.start(operation, continuation, prepare) }) {
                    continuation.resume(returning: -ECANCELED)  // the loop has shut down
                }
            }
        }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation(isolation: isolation) { continuation in
                if !self.execute({ self.start(operation, continuation, prepare) }) {
                    continuation.resume(returning: -ECANCELED)  // the loop has shut down
                }
            }
        } onCancel: {
            operation.cancelled.store(true, ordering: .releasing)
            self.execute { self.requestCancel(operation) }
        }
    }

    private func start(
        _ operation: RingOperation,
        _ continuation: UnsafeContinuation<Int32, Never>,
        _ prepare: (UnsafeMutablePointer<io_uring_sqe>) -> Void
    ) {
        if self.stopping || (operation.cancellation != .none && operation.cancelled.load(ordering: .acquiring)) {
            operation.state = .completed
            continuation.resume(returning: -ECANCELED)
            return
        }
        operation.state = .inFlight
        operation.userData = self.submit(prepare) { result, _ in
            operation.state = .completed
            operation.keepAlive = nil
            continuation.resume(returning: result)
        }
    }

    private func requestCancel(_ operation: RingOperation) {
        guard operation.state == .inFlight else { return }
        switch operation.cancellation {
        case .none: break
        case .asyncCancel: self.cancel(operation.userData)
        case .timeoutRemove: self.removeTimeout(operation.userData)
        }
    }
}
