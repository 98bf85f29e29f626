import AOPIO
import Synchronization

/// What a channel's handle reads without a hop: its close error, the unexpected deliveries, and the
/// returned-message queue (loop-confined itself).
final class ChannelSharedState: Sendable {
    let returns: LoopQueue<AMQPReturnedMessage>

    init(loop: RingLoop) {
        self.returns = LoopQueue(loop: loop)
    }

    let unexpectedCount = Atomic<Int>(0)
    /// The first `unexpectedLimit` unexpected deliveries.
    let unexpected = Mutex<[AMQPUnexpectedDelivery]>([])
    let closeError = Mutex<AMQPClientError?>(nil)
    /// Deliveries that arrived after the channel closed and were discarded.
    let discardedAfterClose = Atomic<Int>(0)
    static let unexpectedLimit = 1000

    func recordUnexpected(_ delivery: AMQPUnexpectedDelivery) {
        let count = self.unexpectedCount.wrappingAdd(1, ordering: .relaxed).newValue
        if count <= Self.unexpectedLimit {
            self.unexpected.withLock { $0.append(delivery) }
        }
    }
}
