#if canImport(Glibc)
import Glibc
#endif

/// A failed system call or io_uring operation: the errno and what was being done.
public struct IOError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The positive errno value (ENOSPC, ECONNRESET, …).
    public var errno: Int32
    public var operation: String

    public init(errno: Int32, operation: String) {
        self.errno = errno
        self.operation = operation
    }

    public var isNoSpace: Bool { self.errno == ENOSPC }

    public var description: String {
        let text = String(cString: strerror(self.errno))
        return "\(self.operation): \(text) (errno \(self.errno))"
    }
}
