import AOPWire

/// A queue's consumers as a plain value: registration order (for single-active-consumer), priority
/// groups (x-priority: higher groups are served first while they have credit) and round-robin within a
/// group.
struct ConsumerSet: Sendable {
    struct Member: Sendable {
        var id: UInt64
        var registration: ConsumerRegistration
    }

    private(set) var members: [Member] = []
    private var turn = 0
    let singleActive: Bool

    init(singleActive: Bool) { self.singleActive = singleActive }

    var isEmpty: Bool { self.members.isEmpty }
    var count: Int { self.members.count }
    var hasExclusive: Bool { self.members.contains { $0.registration.exclusive } }

    mutating func add(_ registration: ConsumerRegistration, id: UInt64) {
        self.members.append(Member(id: id, registration: registration))
    }

    /// Removes the first consumer with this tag.
    mutating func remove(tag: String) -> Member? {
        guard let i = self.members.firstIndex(where: { $0.registration.tag == tag }) else { return nil }
        return self.members.remove(at: i)
    }

    func member(id: UInt64) -> Member? { self.members.first { $0.id == id } }

    /// The consumers that may receive now: the single active one (the earliest registered) under SAC,
    /// else all.
    private var eligible: ArraySlice<Member> {
        self.singleActive ? self.members.prefix(1) : self.members[...]
    }

    /// The next consumer to receive one message, having taken one credit from it: the highest priority
    /// group with credit, round-robin inside the group. nil when every consumer is out of credit.
    mutating func next() -> Member? {
        let candidates = self.eligible
        guard !candidates.isEmpty else { return nil }
        let priorities = Set(candidates.map(\.registration.priority)).sorted(by: >)
        for priority in priorities {
            let group = candidates.filter { $0.registration.priority == priority }
            for k in 0..<group.count {
                let m = group[(self.turn + k) % group.count]
                if m.registration.credit.tryAcquire(1) == 1 {
                    self.turn &+= k + 1
                    return m
                }
            }
        }
        return nil
    }
}
