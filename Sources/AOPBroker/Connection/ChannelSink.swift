import AOPIO
import Synchronization

/// The `DeliverySink` of one channel: queues call it from their own isolation; it parks the deliveries
/// in the connection's inbox and makes sure one drain is scheduled on the connection actor.
final class ChannelSink: DeliverySink {
    let channelID: UInt16
    let inbox: DeliveryInbox

    init(channelID: UInt16, inbox: DeliveryInbox) {
        self.channelID = channelID
        self.inbox = inbox
    }

    func deliver(_ batch: [Delivery]) {
        self.inbox.push(.deliveries(self.channelID, batch))
    }

    func consumerCancelled(tag: String) {
        self.inbox.push(.cancelled(self.channelID, tag))
    }
}

/// Deliveries and cancellations waiting for the connection actor. One lock per batch, and at most
/// one drain task scheduled at a time.
final class DeliveryInbox: Sendable {
    enum Item: Sendable {
        case deliveries(UInt16, [Delivery])
        case cancelled(UInt16, String)
    }

    struct State {
        var items: [Item] = []
        var drainScheduled = false
        var wake: (@Sendable () -> Void)?
    }

    let state = Mutex(State())

    /// Called once by the connection: how to schedule a drain on it.
    func setWake(_ wake: @escaping @Sendable () -> Void) {
        self.state.withLock { $0.wake = wake }
    }

    func push(_ item: Item) {
        let wake: (@Sendable () -> Void)? = self.state.withLock { s in
            s.items.append(item)
            guard !s.drainScheduled else { return nil }
            s.drainScheduled = true
            return s.wake
        }
        wake?()
    }

    /// Takes everything queued; the next push schedules a new drain.
    func take() -> [Item] {
        self.state.withLock { s in
            let items = s.items
            s.items.removeAll(keepingCapacity: true)
            s.drainScheduled = false
            return items
        }
    }

    func dropWake() {
        self.state.withLock { $0.wake = nil }
    }
}
