import AOPIO

/// A single-consumer queue confined to one ring loop, with an async `next`.
///
/// The connection's reader pushes into it on the loop thread; `next(isolation:)` must be called on the
/// loop too (the sequences hop there through the connection actor when their caller is elsewhere). At
/// most one `next` waits at a time.
///
/// `@unchecked Sendable`: every stored property is read and written only on `loop`'s thread (the
/// sequences hand the queue to code isolated to an actor on that loop before touching it).
final class LoopQueue<Element: Sendable>: @unchecked Sendable {
    let loop: RingLoop
    private var items: [Element] = []
    private var head = 0
    private var waiter: UnsafeContinuation<Result<Element?, AMQPClientError>, Never>?
    /// Set once the queue is finished: nil error = normal end.
    private var ending: AMQPClientError??
    /// The producer (the connection's reader) waiting for the queue to drain below `lowWater`.
    private var drainWaiter: UnsafeContinuation<Void, Never>?
    /// Buffered elements at which the producer should stop (`isFull`) and wait (`waitForDrain`).
    let highWater: Int
    let lowWater: Int

    init(loop: RingLoop, highWater: Int = .max) {
        self.loop = loop
        self.highWater = highWater
        self.lowWater = highWater == .max ? .max : highWater / 4
    }

    /// Set by `releaseBackpressure`: the producer no longer waits for this queue.
    private var backpressureReleased = false
    /// The token of the `next` call that waits now (see `cancelWaiter(_:)`).
    private var waiterToken: WaitToken?

    /// True when the producer should wait before pushing more.
    var isFull: Bool { self.ending == nil && !self.backpressureReleased && self.bufferedCount >= self.highWater }

    /// Stops making the producer wait for this queue (and wakes it if it waits now): called when the
    /// client is about to end the consumer (cancel, channel or connection close), whose reply the reader
    /// must still be able to read even if nobody reads this queue any more.
    func releaseBackpressure() {
        self.backpressureReleased = true
        self.resumeDrainWaiter()
    }

    /// Suspends until at most `lowWater` elements are buffered, or the queue is finished.
    func waitForDrain(isolation: isolated (any Actor)?) async {
        guard self.isFull else { return }
        precondition(self.drainWaiter == nil, "two producers wait on one AOPClient queue")
        await withUnsafeContinuation(isolation: isolation) { continuation in
            // Re-checked: the body can run after other jobs on the loop (see `nextResult`).
            if self.isFull { self.drainWaiter = continuation } else { continuation.resume() }
        }
    }

    private func resumeDrainWaiter() {
        guard let waiter = self.drainWaiter else { return }
        self.drainWaiter = nil
        waiter.resume()
    }

    /// True once `finish` ran (buffered elements may remain).
    var isFinished: Bool { self.ending != nil }

    var bufferedCount: Int { self.items.count - self.head }

    func push(_ element: Element) {
        guard self.ending == nil else { return }
        if let waiter = self.waiter {
            self.waiter = nil
            self.waiterToken = nil
            waiter.resume(returning: .success(element))
        } else {
            self.items.append(element)
        }
    }

    /// Ends the sequence after the buffered elements: normally (`nil`) or with `error`.
    func finish(_ error: AMQPClientError?) {
        guard self.ending == nil else { return }
        self.ending = .some(error)
        self.resumeDrainWaiter()
        if let waiter = self.waiter {
            self.waiter = nil
            self.waiterToken = nil
            waiter.resume(returning: error.map { .failure($0) } ?? .success(nil))
        }
    }

    /// Wakes the waiting `next` with nil if it is the call of `token` (whose task was cancelled). A
    /// cancellation handled late (it hops to the loop) must not end a later `next`, which may run in a
    /// task that was not cancelled.
    func cancelWaiter(_ token: WaitToken) {
        guard let waiter = self.waiter, self.waiterToken === token else { return }
        self.waiter = nil
        self.waiterToken = nil
        waiter.resume(returning: .success(nil))
    }

    /// The next element; nil at the normal end or when the task is cancelled; the error the queue was
    /// finished with.
    func nextResult(isolation: isolated (any Actor)?, token: WaitToken) async -> Result<Element?, AMQPClientError> {
        if let element = self.pop() { return .success(element) }
        if let ending = self.ending {
            return ending.map { .failure($0) } ?? .success(nil)
        }
        if Task.isCancelled { return .success(nil) }
        precondition(self.waiter == nil, "two iterators are waiting on one AOPClient sequence")
        return await withUnsafeContinuation(isolation: isolation) { continuation in
            // The body of withUnsafeContinuation was seen to run after other jobs of the same executor
            // (Swift 6.3, actors on a custom executor): whatever arrived meanwhile is taken here.
            if let element = self.pop() {
                continuation.resume(returning: .success(element))
            } else if let ending = self.ending {
                continuation.resume(returning: ending.map { .failure($0) } ?? .success(nil))
            } else if Task.isCancelled {
                // The cancellation handler may have run before this body: it found no waiter to wake.
                continuation.resume(returning: .success(nil))
            } else {
                self.waiter = continuation
                self.waiterToken = token
            }
        }
    }

    private func pop() -> Element? {
        guard self.head < self.items.count else { return nil }
        let element = self.items[self.head]
        self.head += 1
        if self.head == self.items.count {
            self.items.removeAll(keepingCapacity: true)
            self.head = 0
        } else if self.head >= 32, self.head * 2 >= self.items.count {
            // Popped slots still hold their elements (batches hold receive chunks): drop them.
            self.items.removeFirst(self.head)
            self.head = 0
        }
        if self.drainWaiter != nil, self.bufferedCount <= self.lowWater { self.resumeDrainWaiter() }
        return element
    }
}
