import AOPStorage
import Synchronization

/// The vhost's message topics by numeric id, shared with its queues so they can fetch bodies for the
/// index entries they deliver. Ids are assigned once per topic name and persisted (see
/// `DefinitionStore`), so index entries stay valid across restarts and exchange re-declarations.
final class MessageTopics: Sendable {
    private let byID: Mutex<[UInt32: any Topic]> = Mutex([:])
    /// Transient messages just stored, for the queues that deliver them (see `DecodedMessageCache`).
    let decoded = DecodedMessageCache()

    func register(_ topic: any Topic, id: UInt32) {
        let replaced = self.byID.withLock { byID -> Bool in
            defer { byID[id] = topic }
            return byID[id].map { $0 !== topic } ?? false
        }
        if replaced { self.decoded.invalidate(topicID: id) }
    }

    func topic(_ id: UInt32) -> (any Topic)? {
        self.byID.withLock { $0[id] }
    }
}
