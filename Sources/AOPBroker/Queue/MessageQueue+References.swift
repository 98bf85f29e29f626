import AOPStorage
import DequeModule

extension MessageQueue {
    /// The lowest message position this queue still refers to, per message topic; nil when unknown
    /// (index entries not loaded, a load or a body fetch in progress), in which case nothing may be
    /// reclaimed. A deleted queue refers to nothing.
    func referencedFloor() -> [UInt32: Position]? {
        guard case .running = self.lifecycle else { return [:] }
        guard self.fetchesInFlight == 0, !self.deadLetterRunning,
              !self.levels.contains(where: { $0.hasUnloaded || $0.loading })
        else { return nil }
        var floor: [UInt32: Position] = [:]
        func note(_ e: IndexEntry) {
            if let known = floor[e.topicID], known <= e.messagePosition { return }
            floor[e.topicID] = e.messagePosition
        }
        for level in self.levels { for r in level.window { note(r.entry) } }
        for u in self.unacked.values { note(u.ready.entry) }
        for d in self.deadLetters { note(d.ready.entry) }
        return floor
    }
}
