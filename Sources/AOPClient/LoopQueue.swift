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

    init(loop: RingLoop) {
        self.loop = loop
    }

    /// True once `finish` ran (buffered elements may remain).
    var isFinished: Bool { self.ending != nil }

    var bufferedCount: Int { self.items.count - self.head }

    func push(_ element: Element) {
        guard self.ending == nil else { return }
        if let waiter = self.waiter {
            self.waiter = nil
            waiter.resume(returning: .success(element))
        } else {
            self.items.append(element)
        }
    }

    /// Ends the sequence after the buffered elements: normally (`nil`) or with `error`.
    func finish(_ error: AMQPClientError?) {
        guard self.ending == nil else { return }
        self.ending = .some(error)
        if let waiter = self.waiter {
            self.waiter = nil
            waiter.resume(returning: error.map { .failure($0) } ?? .success(nil))
        }
    }

    /// Wakes a waiting `next` with nil (its task was cancelled).
    func cancelWaiter() {
        guard let waiter = self.waiter else { return }
        self.waiter = nil
        waiter.resume(returning: .success(nil))
    }

    /// The next element; nil at the normal end or when the task is cancelled; the error the queue was
    /// finished with.
    func nextResult(isolation: isolated (any Actor)?) async -> Result<Element?, AMQPClientError> {
        if let element = self.pop() { return .success(element) }
        if let ending = self.ending {
            return ending.map { .failure($0) } ?? .success(nil)
        }
        if Task.isCancelled { return .success(nil) }
        precondition(self.waiter == nil, "two iterators are waiting on one AOPClient sequence")
        return await withUnsafeContinuation(isolation: isolation) { self.waiter = $0 }
    }

    private func pop() -> Element? {
        guard self.head < self.items.count else { return nil }
        let element = self.items[self.head]
        self.head += 1
        if self.head == self.items.count {
            self.items.removeAll(keepingCapacity: true)
            self.head = 0
        }
        return element
    }
}
