import CURing
import Glibc

extension RingLoop {
    /// A free SQE; submits the queue first when it is full. Loop thread only.
    func sqe() -> UnsafeMutablePointer<io_uring_sqe> {
        if let sqe = io_uring_get_sqe(self.ring) { return sqe }
        _ = io_uring_submit(self.ring)
        guard let sqe = io_uring_get_sqe(self.ring) else {
            fatalError("no SQE available on \(self.name) after submitting")
        }
        return sqe
    }

    /// Prepares an SQE whose completions go to `handler` and returns its `user_data`.
    /// The handler stays registered while CQEs carry `IORING_CQE_F_MORE` (multishot). Loop thread only.
    @discardableResult
    func submit(
        _ prepare: (UnsafeMutablePointer<io_uring_sqe>) -> Void,
        onCompletion handler: @escaping CompletionTable.Handler
    ) -> UInt64 {
        self.assertOnLoop()
        let sqe = self.sqe()
        prepare(sqe)
        let userData = self.completions.insert(handler)
        io_uring_sqe_set_data64(sqe, userData)
        return userData
    }

    /// Asks the kernel to cancel the operation with `userData`; its handler still receives its final
    /// CQE (usually `-ECANCELED`). Loop thread only.
    func cancel(_ userData: UInt64) {
        self.assertOnLoop()
        let sqe = self.sqe()
        io_uring_prep_cancel64(sqe, userData, 0)
        io_uring_sqe_set_data64(sqe, CompletionTable.ignored)
    }

    /// Removes the timeout with `userData` (its handler receives `-ECANCELED`). Loop thread only.
    func removeTimeout(_ userData: UInt64) {
        self.assertOnLoop()
        let sqe = self.sqe()
        io_uring_prep_timeout_remove(sqe, userData, 0)
        io_uring_sqe_set_data64(sqe, CompletionTable.ignored)
    }
}
