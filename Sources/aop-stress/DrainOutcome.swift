/// What the final drain did: the queues it could not empty, the messages it read and how long it took.
struct DrainOutcome: Sendable {
    /// Stable queues the drain could not empty, with their last state ("3 ready, 1 consumers").
    var notDrained: [String: String]
    /// Messages delivered to the drain (all stable queues).
    var messages: Int
    var elapsed: Duration
}
