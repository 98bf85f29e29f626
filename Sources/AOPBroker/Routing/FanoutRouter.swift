public import AOPWire

/// The fanout exchange: a message reaches every bound destination, whatever its routing key.
/// The destination set is kept ready, so routing allocates nothing.
public struct FanoutRouter: Router {
    private var registry = BindingRegistry()
    private var destinations = DestinationMultiset()

    public init() {}

    public mutating func bind(_ binding: Binding) -> Bool {
        let id = BindingID(binding)
        guard self.registry.insert(id) else { return false }
        self.destinations.insert(id.destination)
        return true
    }

    public mutating func unbind(_ binding: Binding) -> Bool {
        let id = BindingID(binding)
        guard self.registry.remove(id) else { return false }
        self.destinations.remove(id.destination)
        return true
    }

    public mutating func unbindAll(destination: Destination) -> Int {
        let removed = self.registry.removeAll(destination: destination).count
        if removed > 0 { self.destinations.removeAll(destination) }
        return removed
    }

    public func route(routingKey: String, headers: FieldTable?) -> Set<Destination> {
        self.destinations.set
    }

    public var bindings: [Binding] { self.registry.all }
    public var isEmpty: Bool { self.registry.isEmpty }
}
