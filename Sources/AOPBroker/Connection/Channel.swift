import AOPIO
import AOPWire
import DequeModule

/// One AMQP channel's state, owned by its connection actor (never shared across isolation domains).
///
/// A class, not a struct: the connection keeps channels in a dictionary, and copying a struct out of it
/// and back on every frame made each append to `pendingPublishes` copy the whole array (profiled: a third
/// of the server's CPU on 16-byte publishes).
final class Channel {
    enum State {
        case open
        /// We sent channel.close after a soft error; everything but close/close-ok is discarded.
        case closing
    }

    struct Consumer {
        var tag: String
        var queue: MessageQueue
        var noAck: Bool
        var credit: CreditGate
        /// consume-ok not yet written: deliveries wait so they never precede it.
        var ready: Bool
    }

    struct Unacked {
        var queue: MessageQueue
        var deliveryID: UInt64
        /// nil for basic.get deliveries (no consumer credit to release).
        var credit: CreditGate?
    }

    /// A publish waiting to be handed to the broker (or to tx.commit).
    struct PendingPublish {
        var request: PublishRequest
        /// Confirm sequence number when the channel is in confirm mode.
        var sequence: UInt64?
    }

    /// Settlements buffered in a transaction until tx.commit.
    struct PendingSettlement {
        var tags: [UInt64]
        var settlement: Settlement
    }

    let id: UInt16
    var state: State = .open
    /// Set when its consumers were cancelled and its unacked requeued (close or teardown): a consume
    /// that was registering meanwhile must undo itself.
    var released = false
    var assembler: CommandAssembler
    var consumers: [String: Consumer] = [:]
    /// Delivery tag → unsettled delivery, in tag order.
    var unacked: [UInt64: Unacked] = [:]
    var unackedOrder: Deque<UInt64> = []
    var nextDeliveryTag: UInt64 = 1
    /// basic.qos global=false: the limit given to consumers created afterwards.
    var consumerPrefetch: UInt32 = 0
    /// basic.qos global=true: shared by every consumer on the channel.
    let channelCredit = ChannelCredit(limit: 0)
    var confirmMode = false
    var nextPublishSequence: UInt64 = 1
    var txMode = false
    var txPublishes: [PendingPublish] = []
    var txSettlements: [PendingSettlement] = []
    /// Publishes received in the current read, handed to the broker in batches.
    var pendingPublishes: [PendingPublish] = []
    /// channel.flow active=false pauses deliveries to this channel.
    var flowActive = true
    /// Deliveries held while flow is off or their consumer is not ready yet.
    var heldDeliveries: [Delivery] = []
    let sink: ChannelSink

    init(id: UInt16, maxBodySize: UInt64, sink: ChannelSink) {
        self.id = id
        self.assembler = CommandAssembler(maxBodySize: maxBodySize)
        self.sink = sink
    }

    func takeDeliveryTag() -> UInt64 {
        defer { self.nextDeliveryTag += 1 }
        return self.nextDeliveryTag
    }

    func recordUnacked(tag: UInt64, _ unacked: Unacked) {
        self.unacked[tag] = unacked
        self.unackedOrder.append(tag)
    }

    /// Removes and returns the unsettled deliveries named by an ack/nack/reject.
    /// `multiple` settles every tag up to and including `tag`; tag 0 with multiple means "all".
    /// Returns nil when a named tag is unknown (406 PRECONDITION_FAILED).
    func takeUnacked(tag: UInt64, multiple: Bool) -> [(UInt64, Unacked)]? {
        if multiple {
            var taken: [(UInt64, Unacked)] = []
            if tag != 0 && tag >= self.nextDeliveryTag { return nil }
            while let first = self.unackedOrder.first, tag == 0 || first <= tag {
                self.unackedOrder.removeFirst()
                if let u = self.unacked.removeValue(forKey: first) { taken.append((first, u)) }
            }
            if tag != 0 && taken.isEmpty { return nil }
            return taken
        }
        guard let u = self.unacked.removeValue(forKey: tag) else { return nil }
        if self.unackedOrder.first == tag {
            self.unackedOrder.removeFirst()
        } else if let i = self.unackedOrder.firstIndex(of: tag) {
            self.unackedOrder.remove(at: i)
        }
        return [(tag, u)]
    }

    /// Every unsettled delivery (channel close, basic.recover).
    func takeAllUnacked() -> [(UInt64, Unacked)] {
        var taken: [(UInt64, Unacked)] = []
        taken.reserveCapacity(self.unacked.count)
        for tag in self.unackedOrder {
            if let u = self.unacked.removeValue(forKey: tag) { taken.append((tag, u)) }
        }
        self.unackedOrder.removeAll()
        return taken
    }
}
