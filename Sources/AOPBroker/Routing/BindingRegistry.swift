/// The set of bindings of one exchange, indexed by destination so that `unbindAll` (queue or exchange
/// deletion) costs the number of bindings it removes, not the number the exchange holds.
struct BindingRegistry: Sendable {
    private var byDestination: [Destination: Set<BindingID>] = [:]
    private(set) var count = 0

    var isEmpty: Bool { self.count == 0 }

    /// Inserts; false when it was already present.
    mutating func insert(_ id: BindingID) -> Bool {
        let inserted = self.byDestination[id.destination, default: []].insert(id).inserted
        if inserted { self.count += 1 }
        return inserted
    }

    /// Removes; false when it was absent.
    mutating func remove(_ id: BindingID) -> Bool {
        guard var set = self.byDestination.removeValue(forKey: id.destination) else { return false }
        let removed = set.remove(id) != nil
        if !set.isEmpty { self.byDestination[id.destination] = set }
        if removed { self.count -= 1 }
        return removed
    }

    /// Removes and returns every binding to `destination`.
    mutating func removeAll(destination: Destination) -> Set<BindingID> {
        let removed = self.byDestination.removeValue(forKey: destination) ?? []
        self.count -= removed.count
        return removed
    }

    var all: [Binding] { self.byDestination.values.flatMap { $0.map(\.binding) } }
}
