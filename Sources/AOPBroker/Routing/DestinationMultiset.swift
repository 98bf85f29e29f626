/// Destinations with a multiplicity: one (key, destination) pair can be bound several times with
/// different arguments, and routes there while any of those bindings remain. `set` is kept ready so a
/// route that hits one table entry returns it without building a new set.
struct DestinationMultiset: Sendable {
    private(set) var set: Set<Destination> = []
    /// Multiplicity above one; absent means one.
    private var extra: [Destination: Int] = [:]

    var isEmpty: Bool { self.set.isEmpty }

    mutating func insert(_ destination: Destination) {
        if !self.set.insert(destination).inserted { self.extra[destination, default: 1] += 1 }
    }

    /// Removes one occurrence.
    mutating func remove(_ destination: Destination) {
        if let n = self.extra[destination] {
            self.extra[destination] = n > 2 ? n - 1 : nil
        } else {
            self.set.remove(destination)
        }
    }

    /// Removes every occurrence.
    mutating func removeAll(_ destination: Destination) {
        self.extra[destination] = nil
        self.set.remove(destination)
    }
}
