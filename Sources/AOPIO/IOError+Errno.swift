#if canImport(Glibc)
import Glibc
#endif

extension IOError {
    /// An error from a negative io_uring result (`-errno`).
    init(result: Int32, operation: String) {
        self.init(errno: -result, operation: operation)
    }

    /// An error from the calling thread's `errno` after a failed system call.
    static func lastError(_ operation: String) -> IOError {
        IOError(errno: Glibc.errno, operation: operation)
    }
}
