/// The serial executor an actor runs on, together with what keeps that executor alive (an
/// `UnownedSerialExecutor` does not retain it).
///
/// Broker actors that talk to each other per batch (vhost, exchange, queue, in-memory cursors) can share
/// one executor, for example the io_uring loop their connections run on, so a hop between them is a local
/// enqueue instead of a cross-thread wake-up (13–21 µs per round trip). Without a shared executor each
/// actor gets its own default-actor executor (`standalone()`), which is what a plain actor has.
public struct ActorExecutor: Sendable {
    /// Keeps the executor alive: the `SerialExecutor` object or the anchor actor.
    let owner: any Sendable
    /// What the actor's `unownedExecutor` returns.
    public let executor: UnownedSerialExecutor
    /// Task executor to start child tasks on so they do not begin on the global pool (nil: default).
    public let taskExecutor: (any TaskExecutor)?
    /// True when the executor is shared (`pinned(to:)`), false for a standalone default-actor executor.
    public let isShared: Bool

    /// Actors built with this value share `executor` (and, when it is also a `TaskExecutor` such as a
    /// ring loop, start their tasks on it).
    public static func pinned(to executor: any SerialExecutor) -> ActorExecutor {
        ActorExecutor(owner: executor, executor: executor.asUnownedSerialExecutor(),
                      taskExecutor: executor as? any TaskExecutor, isShared: true)
    }

    /// A fresh default-actor executor of its own (an actor with it behaves like a plain actor).
    public static func standalone() -> ActorExecutor {
        let anchor = ExecutorAnchor()
        return ActorExecutor(owner: anchor, executor: anchor.unownedExecutor, taskExecutor: nil, isShared: false)
    }

    /// `pinned(to:)` when `executor` is given, else `standalone()`.
    public static func pinned(toOptional executor: (any SerialExecutor)?) -> ActorExecutor {
        executor.map { Self.pinned(to: $0) } ?? Self.standalone()
    }

    /// The executor to give actors created by an actor that uses this one: the same when shared, a new
    /// standalone one otherwise.
    public func forChild() -> ActorExecutor {
        self.isShared ? self : Self.standalone()
    }
}

/// An empty actor whose default executor other actors borrow (SE-0392 allows sharing an actor's executor).
actor ExecutorAnchor {}
