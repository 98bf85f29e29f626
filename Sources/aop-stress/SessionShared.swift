import AOPClient
import AOPStress
import Synchronization

/// A delivery in ack mode waiting for the channel's operation loop to settle it.
struct PendingSettle: Sendable {
    var tag: UInt64
    var policy: StressOperation.SettlePolicy
}

/// Publishes awaiting their confirm: publish sequence number → message.
struct ConfirmBook: Sendable {
    var pending: [UInt64: MessageID] = [:]
    var lowest: UInt64 = 1

    /// The messages a basic.ack / basic.nack settles.
    mutating func settle(_ tag: UInt64, multiple: Bool) -> [MessageID] {
        guard multiple else { return self.pending.removeValue(forKey: tag).map { [$0] } ?? [] }
        var out: [MessageID] = []
        if self.lowest <= tag {
            for sequence in self.lowest...tag {
                if let id = self.pending.removeValue(forKey: sequence) { out.append(id) }
            }
            self.lowest = tag + 1
        }
        return out
    }
}

/// State of one channel incarnation shared by its operation loop and its reader tasks (consumers,
/// confirms, returns).
final class SessionShared: Sendable {
    let id: UInt64
    let producer: UInt32
    let inbox = Mutex<[PendingSettle]>([])
    let confirms = Mutex(ConfirmBook())

    init(id: UInt64, producer: UInt32) {
        self.id = id
        self.producer = producer
    }

    func takeInbox() -> [PendingSettle] {
        self.inbox.withLock { inbox in
            defer { inbox = [] }
            return inbox
        }
    }
}
