import AOPWire

/// A queue's consumers as a plain value: registration order (for single-active-consumer), priority
/// groups (x-priority: higher groups are served first while they have credit) and round-robin within a
/// group.
struct ConsumerSet: Sendable {
    /// A class, not a struct: a dispatch pass copies the member into every assignment, and copying the
    /// registration (tag, arguments, credit gate, sink) took several retains per delivered message.
    final class Member: Sendable {
        let id: UInt64
        let registration: ConsumerRegistration

        init(id: UInt64, registration: ConsumerRegistration) {
            self.id = id
            self.registration = registration
        }
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

    /// Whether a consumer with this id is registered (no copy of it, unlike `member(id:)`).
    func contains(id: UInt64) -> Bool { self.members.contains { $0.id == id } }

    /// Distinct consumer priorities, highest first.
    private var priorities: [Int32] {
        Set(self.members.map(\.registration.priority)).sorted(by: >)
    }

    /// The next consumer to receive one message, having taken one credit from it: the single active
    /// one (earliest registered) under SAC; else the highest priority group with credit, round-robin
    /// inside the group. nil when every eligible consumer is out of credit.
    mutating func next() -> Member? {
        guard !self.members.isEmpty else { return nil }
        if self.singleActive {
            let m = self.members[0]
            return m.registration.credit.tryAcquire(1) == 1 ? m : nil
        }
        let first = self.members[0].registration.priority
        if self.members.allSatisfy({ $0.registration.priority == first }) {
            let n = self.members.count
            for k in 0..<n {
                let m = self.members[(self.turn + k) % n]
                if m.registration.credit.tryAcquire(1) == 1 {
                    self.turn &+= k + 1
                    return m
                }
            }
            return nil
        }
        for priority in self.priorities {
            if let m = self.pick(in: self.members.indices.filter { self.members[$0].registration.priority == priority }) {
                return m
            }
        }
        return nil
    }

    private mutating func pick(in indices: [Int]) -> Member? {
        for k in 0..<indices.count {
            let m = self.members[indices[(self.turn + k) % indices.count]]
            if m.registration.credit.tryAcquire(1) == 1 {
                self.turn &+= k + 1
                return m
            }
        }
        return nil
    }
}
