import CURing
public import Synchronization

/// ThreadSanitizer annotations: no-ops unless the program is built with `-sanitize=thread`.
///
/// Why they exist: `Synchronization.Mutex` on Linux locks with a compare-exchange in inlined code
/// (instrumented, so TSan sees it) but, when the lock is contended, waits and hands over through
/// `FUTEX_LOCK_PI` / `FUTEX_UNLOCK_PI` syscalls made from the uninstrumented Swift runtime
/// (`_lockSlow`, `_unlockSlow`). TSan then sees no happens-before edge between two critical sections
/// and reports a race on the protected value, or on anything handed from one thread to another
/// through it (Docs/Testing.md, "ThreadSanitizer"). Annotating the critical sections of a lock that
/// hands work between threads makes the edge visible without hiding real races elsewhere.
public enum ThreadSanitizer {
    /// Everything a thread did before its last `release(token)` happens before what the calling thread
    /// does next.
    @inline(__always)
    public static func acquire(_ token: AnyObject) {
        aop_tsan_acquire(Unmanaged.passUnretained(token).toOpaque())
    }

    /// Publishes what the calling thread did so far to the next `acquire(token)` on any thread.
    @inline(__always)
    public static func release(_ token: AnyObject) {
        aop_tsan_release(Unmanaged.passUnretained(token).toOpaque())
    }
}

extension Mutex where Value: ~Copyable {
    /// `withLock(_:)` whose critical sections TSan also sees as ordered (acquire on entry, release on
    /// exit, both on `token`, usually the object that owns the mutex). See `ThreadSanitizer`.
    @inline(__always)
    public borrowing func withLock<Result: ~Copyable, E: Error>(
        orderedFor token: AnyObject,
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        try self.withLock { (value: inout sending Value) throws(E) -> sending Result in
            ThreadSanitizer.acquire(token)
            defer { ThreadSanitizer.release(token) }
            return try body(&value)
        }
    }
}
