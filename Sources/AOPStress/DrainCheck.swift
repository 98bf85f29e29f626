/// The final drain's decisions about one stable queue (pure, so they are tested without a broker).
///
/// The drain consumes each queue; when its consumer has seen nothing for a quiet period it asks the broker
/// (passive queue.declare) whether the queue is empty, then cancels its consumer and asks again: a queue is
/// drained when it reports no ready message and no consumer once the drain's own consumer is gone.
public enum DrainCheck {
    /// What a passive queue.declare says about a queue being drained.
    public enum Verdict: Equatable, Sendable {
        /// No ready message and no consumer but the drain's own.
        case empty
        /// Messages are still ready (more deliveries are coming, or a consumer holds them back).
        case messagesLeft
        /// No ready message, but another consumer is attached (one that outlived its client, or
        /// requeues that are still to arrive once it goes).
        case consumerLeft
    }

    /// - Parameter ownConsumers: the drain's consumers on the queue at the time of the declare (1 while it
    ///   consumes, 0 after its cancel-ok or with basic.get).
    public static func verdict(messageCount: UInt32, consumerCount: UInt32, ownConsumers: UInt32) -> Verdict {
        if messageCount > 0 { return .messagesLeft }
        return consumerCount > ownConsumers ? .consumerLeft : .empty
    }

    /// The consumers other than the drain's own (what a report of a queue left undrained shows).
    public static func otherConsumers(consumerCount: UInt32, ownConsumers: UInt32) -> UInt32 {
        consumerCount > ownConsumers ? consumerCount - ownConsumers : 0
    }

    /// True when no delivery came for `quiet` (time to ask the broker whether the queue is empty).
    public static func isQuiet(lastDelivery: ContinuousClock.Instant, now: ContinuousClock.Instant,
                               quiet: Duration) -> Bool {
        now - lastDelivery >= quiet
    }

    /// Messages per second (0 for no time).
    public static func rate(messages: Int, elapsed: Duration) -> Double {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(messages) / seconds : 0
    }
}
