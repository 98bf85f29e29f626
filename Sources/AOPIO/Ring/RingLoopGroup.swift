import Synchronization

/// A fixed set of ring loops; `next()` hands them out round-robin (for accepted connections).
public final class RingLoopGroup: Sendable {
    public let loops: [RingLoop]
    private let counter = Atomic<Int>(0)

    /// Starts `loops` ring threads named `"<namePrefix>-<index>"`.
    public init(loops: Int, namePrefix: String = "ring") throws(IOError) {
        precondition(loops > 0, "a RingLoopGroup needs at least one loop")
        var started: [RingLoop] = []
        for index in 0..<loops {
            do {
                started.append(try RingLoop(name: "\(namePrefix)-\(index)"))
            } catch {
                for loop in started { loop.shutdown() }
                throw error
            }
        }
        self.loops = started
    }

    /// The next loop, round-robin.
    public func next() -> RingLoop {
        let index = self.counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return self.loops[index % self.loops.count]
    }

    /// Shuts every loop down (see `RingLoop.shutdown()`).
    public func shutdown() {
        for loop in self.loops { loop.shutdown() }
    }
}
