import Glibc
import Synchronization

/// Programmable faults for `FaultInjectingFileSystem`; change them at any time from any thread.
public final class FileFaults: Sendable {
    /// The knobs; all off by default.
    public struct Settings: Sendable {
        /// Writes fail with ENOSPC after this many bytes were written in total through the wrapper;
        /// the write crossing the limit writes the bytes up to it first (a short write), then fails.
        public var noSpaceAfterBytes: Int?
        /// While true, every write fails with ENOSPC without writing.
        public var noSpace = false
        /// The next write writes only this many bytes, then fails with EIO (a torn write); one-shot.
        public var shortWriteOnce: Int?
        /// While true, reads fail with EIO.
        public var readError = false
        /// While true, sync fails with EIO.
        public var syncError = false

        public init() {}
    }

    private struct State {
        var settings = Settings()
        var bytesWritten = 0
    }

    private let state = Mutex(State())

    public init(_ settings: Settings = Settings()) {
        self.state.withLock { $0.settings = settings }
    }

    /// Reads or changes the settings.
    public func update(_ body: (inout Settings) -> Void) {
        self.state.withLock { body(&$0.settings) }
    }

    public var settings: Settings { self.state.withLock { $0.settings } }

    /// Bytes written through the wrapper so far.
    public var bytesWritten: Int { self.state.withLock { $0.bytesWritten } }

    /// How much of a write of `count` bytes may proceed, and the error to throw after it.
    func admitWrite(count: Int) -> (allowed: Int, error: Int32?) {
        self.state.withLock { state in
            if state.settings.noSpace { return (0, ENOSPC) }
            var allowed = count
            var error: Int32?
            if let limit = state.settings.noSpaceAfterBytes, state.bytesWritten + count > limit {
                allowed = max(0, limit - state.bytesWritten)
                error = ENOSPC
            }
            if let short = state.settings.shortWriteOnce {
                state.settings.shortWriteOnce = nil
                if short < allowed {
                    allowed = short
                    error = EIO
                }
            }
            state.bytesWritten += allowed
            return (allowed, error)
        }
    }
}
