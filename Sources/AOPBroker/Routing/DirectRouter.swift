public import AOPWire

/// The direct exchange: a message reaches the destinations bound with a binding key byte-equal to its
/// routing key. Lookup is one hash of the routing key; the destination set is stored ready to return.
public struct DirectRouter: Router {
    private var registry = BindingRegistry()
    private var byKey: [ExactString: DestinationMultiset] = [:]

    public init() {}

    public mutating func bind(_ binding: Binding) -> Bool {
        let id = BindingID(binding)
        guard self.registry.insert(id) else { return false }
        self.byKey[id.key, default: DestinationMultiset()].insert(id.destination)
        return true
    }

    public mutating func unbind(_ binding: Binding) -> Bool {
        let id = BindingID(binding)
        guard self.registry.remove(id) else { return false }
        self.removeFromIndex(id)
        return true
    }

    public mutating func unbindAll(destination: Destination) -> Int {
        let removed = self.registry.removeAll(destination: destination)
        for id in removed { self.removeFromIndex(id) }
        return removed.count
    }

    public func route(routingKey: String, headers: FieldTable?) -> Set<Destination> {
        self.byKey[ExactString(routingKey)]?.set ?? []
    }

    public var bindings: [Binding] { self.registry.all }
    public var isEmpty: Bool { self.registry.isEmpty }

    private mutating func removeFromIndex(_ id: BindingID) {
        guard var entry = self.byKey.removeValue(forKey: id.key) else { return }
        entry.remove(id.destination)
        if !entry.isEmpty { self.byKey[id.key] = entry }
    }
}
