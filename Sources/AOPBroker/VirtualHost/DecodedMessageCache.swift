import AOPStorage
import Synchronization

/// Transient messages just appended to a message topic and routed to several queues, kept as `Message`
/// values so those queues deliver them without decoding the stored record again: the queues of a fanout
/// share one copy of the body instead of decoding one each.
///
/// A fixed ring of slots indexed by position (allocated on first use): a later entry overwrites an
/// earlier one, so a miss only means the queue decodes the record as before. Only bodies up to
/// `maxBodySize` are kept, which bounds the memory held. `invalidate` runs when a topic id is bound to a
/// new topic (positions of an in-memory topic restart at zero).
final class DecodedMessageCache: Sendable {
    static let slotCount = 1024
    static let maxBodySize = 4096

    private struct Slot {
        var topicID: UInt32
        var position: UInt64
        var message: Message
    }

    private let slots = Mutex<[Slot?]>([])

    /// Keeps `messages[i]` as the entry at `positions[i]` of topic `topicID` (small bodies only).
    func insert(topicID: UInt32, positions: [Position], messages: [Message?]) {
        self.slots.withLock { slots in
            for (position, message) in zip(positions, messages) {
                guard let message, message.body.count <= Self.maxBodySize else { continue }
                if slots.isEmpty { slots = Array(repeating: nil, count: Self.slotCount) }
                slots[Int(position.raw % UInt64(Self.slotCount))] = Slot(topicID: topicID, position: position.raw,
                                                                          message: message)
            }
        }
    }

    /// Fills `out[i]` for every `i` in `indices` whose entry (`positions[i]` of `topicID`) is held;
    /// returns the indices that were not.
    func lookup(topicID: UInt32, positions: [Position], indices: [Int], into out: inout [Message?]) -> [Int] {
        self.slots.withLock { slots in
            guard !slots.isEmpty else { return indices }
            var missing: [Int] = []
            for i in indices {
                let raw = positions[i].raw
                if let slot = slots[Int(raw % UInt64(Self.slotCount))], slot.topicID == topicID, slot.position == raw {
                    out[i] = slot.message
                } else {
                    missing.append(i)
                }
            }
            return missing
        }
    }

    /// Forgets every entry of `topicID` (the id now names another topic).
    func invalidate(topicID: UInt32) {
        self.slots.withLock { slots in
            for i in slots.indices where slots[i]?.topicID == topicID { slots[i] = nil }
        }
    }
}
