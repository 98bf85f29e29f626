import CURing
import Glibc
import Synchronization

/// One io_uring ring driven by one dedicated pthread; also a `SerialExecutor` and `TaskExecutor`.
///
/// Actors whose `unownedExecutor` is `loop.asUnownedSerialExecutor()` run their code on the ring
/// thread, so they can submit operations and touch ring-confined objects (`TCPConnection`) without
/// locks. Jobs enqueued from other threads wake the ring through an eventfd read that is kept armed.
///
/// Each loop iteration: run queued jobs, flush connections with pending output (one send each),
/// submit and wait for at least one CQE (or only submit if jobs are pending), reap CQEs in batches.
///
/// `@unchecked Sendable`: the ring, the job list, the completion table and the dirty-connection list
/// are only touched on the ring thread (checked with `isCurrent` at the entry points); everything
/// other threads touch is behind `Mutex`/`Atomic` (`remote`, `wakePending`, `threadID`,
/// `stopRequested`), and the eventfd is written with a plain `write(2)`.
public final class RingLoop: SerialExecutor, TaskExecutor, @unchecked Sendable {
    /// Work handed over from other threads.
    struct RemoteQueue {
        var jobs: [UnownedJob] = []
        var closures: [@Sendable () -> Void] = []
        /// Set when the loop thread has exited; later closures are refused.
        var stopped = false
        /// Jobs enqueued from other threads so far (tests check that hot paths stay on the ring).
        var remoteJobCount = 0
    }

    public let name: String
    let ring: UnsafeMutablePointer<io_uring>
    let wakeFD: Int32
    let wakeBuffer: UnsafeMutablePointer<UInt64>

    // Ring-confined state.
    var localJobs: [UnownedJob] = []
    var runningJobs: [UnownedJob] = []
    var completions = CompletionTable()
    var dirtyConnections: [TCPConnection] = []
    var flushingConnections: [TCPConnection] = []
    var wakeArmed = false
    var stopping = false
    var providedBuffers: ProvidedBufferRing?
    /// Number of `IORING_OP_SEND` submissions (tests check coalescing with it).
    var sendSubmissions = 0

    // Shared with other threads.
    let remote = Mutex(RemoteQueue())
    let wakePending = Atomic<Bool>(false)
    let threadID = Atomic<UInt>(0)
    let stopRequested = Atomic<Bool>(false)
    let thread = Mutex<pthread_t?>(nil)

    /// `user_data` of the eventfd read.
    static let wakeUserData = UInt64.max
    static let reapBatch: UInt32 = 256

    /// Creates the ring and starts its thread.
    /// - Parameters:
    ///   - name: thread name (Linux truncates to 15 bytes).
    ///   - entries: submission queue size; the completion queue is twice as large.
    public init(name: String, entries: UInt32 = 4096) throws(IOError) {
        self.name = name
        self.ring = .allocate(capacity: 1)
        self.ring.initialize(to: io_uring())
        let ret = io_uring_queue_init(entries, self.ring, 0)
        guard ret >= 0 else {
            self.ring.deallocate()
            throw IOError(result: ret, operation: "io_uring_queue_init")
        }
        let fd = eventfd(0, Int32(EFD_CLOEXEC))
        guard fd >= 0 else {
            let error = IOError.lastError("eventfd")
            io_uring_queue_exit(self.ring)
            self.ring.deallocate()
            throw error
        }
        self.wakeFD = fd
        self.wakeBuffer = .allocate(capacity: 1)
        self.wakeBuffer.initialize(to: 0)
        try self.startThread()
    }

    deinit {
        // The thread holds a strong reference while it runs, so we get here only after it exited.
        Glibc.close(self.wakeFD)
        self.wakeBuffer.deallocate()
        self.ring.deallocate()
    }

    /// True when called on this loop's thread.
    public var isCurrent: Bool {
        self.threadID.load(ordering: .relaxed) == UInt(pthread_self())
    }

    /// Traps unless called on the loop thread (debug builds only).
    @inline(__always)
    func assertOnLoop(_ function: StaticString = #function) {
        assert(self.isCurrent, "\(function) must be called on ring loop \(self.name)")
    }

    // MARK: Executor

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if self.isCurrent {
            self.localJobs.append(job)
        } else {
            self.remote.withLock(orderedFor: self) {
                $0.jobs.append(job)
                $0.remoteJobCount += 1
            }
            self.wake()
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    public func checkIsolated() {
        precondition(self.isCurrent, "not on ring loop \(self.name)")
    }

    public func isIsolatingCurrentContext() -> Bool? {
        self.isCurrent
    }

    /// Runs `body` on the loop thread: now if already there, else in the loop's next iteration.
    /// - Returns: false (and `body` never runs) when the loop has already shut down.
    @discardableResult
    func execute(_ body: @escaping @Sendable () -> Void) -> Bool {
        if self.isCurrent {
            body()
            return true
        }
        let accepted = self.remote.withLock(orderedFor: self) { queue in
            guard !queue.stopped else { return false }
            queue.closures.append(body)
            return true
        }
        if accepted { self.wake() }
        return accepted
    }

    /// Jobs enqueued from other threads so far.
    var remoteEnqueueCount: Int { self.remote.withLock(orderedFor: self) { $0.remoteJobCount } }

    /// Wakes the ring from another thread (one eventfd write per wakeup, not per job).
    func wake() {
        guard !self.wakePending.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var one: UInt64 = 1
        _ = Glibc.write(self.wakeFD, &one, 8)
    }

    /// Stops the loop: cancels the operations still in flight, waits for their completions, runs the
    /// jobs they produced, then joins the thread. Operations started afterwards fail with ECANCELED
    /// (timers throw `CancellationError`), but jobs enqueued afterwards (calls into actors pinned to
    /// this loop) are never run: stop using the loop's actors before shutting it down.
    public func shutdown() {
        let thread = self.thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        guard let thread else { return }
        precondition(!self.isCurrent, "RingLoop.shutdown() called on its own thread")
        self.stopRequested.store(true, ordering: .releasing)
        // Force a wakeup even if one is pending (its CQE may already have been reaped).
        var one: UInt64 = 1
        _ = Glibc.write(self.wakeFD, &one, 8)
        pthread_join(thread, nil)
    }
}
