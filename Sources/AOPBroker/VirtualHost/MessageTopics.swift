import AOPStorage
import Synchronization

/// The vhost's message topics by numeric id, shared with its queues so they can fetch bodies for the
/// index entries they deliver. Ids are assigned once per topic name and persisted (see
/// `DefinitionStore`), so index entries stay valid across restarts and exchange re-declarations.
final class MessageTopics: Sendable {
    private let byID: Mutex<[UInt32: any Topic]> = Mutex([:])

    func register(_ topic: any Topic, id: UInt32) {
        self.byID.withLock { $0[id] = topic }
    }

    func topic(_ id: UInt32) -> (any Topic)? {
        self.byID.withLock { $0[id] }
    }
}
