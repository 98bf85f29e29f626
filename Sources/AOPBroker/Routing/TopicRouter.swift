public import AOPWire

/// The topic exchange (RabbitMQ semantics): binding keys are '.'-separated words where `*` matches
/// exactly one word and `#` matches zero or more; empty words are words ("a..b" has three), the empty
/// routing key has zero words (so "#" matches it and "*" does not), "a.#" matches "a", and words are
/// compared byte for byte. See `TopicTrie` for the matching algorithm.
public struct TopicRouter: Router {
    private var registry = BindingRegistry()
    private var trie = TopicTrie()

    public init() {}

    public mutating func bind(_ binding: Binding) -> Bool {
        let id = BindingID(binding)
        guard self.registry.insert(id) else { return false }
        self.trie.insert(pattern: id.key.value, destination: id.destination)
        return true
    }

    public mutating func unbind(_ binding: Binding) -> Bool {
        let id = BindingID(binding)
        guard self.registry.remove(id) else { return false }
        self.trie.remove(pattern: id.key.value, destination: id.destination)
        return true
    }

    public mutating func unbindAll(destination: Destination) -> Int {
        let removed = self.registry.removeAll(destination: destination)
        for id in removed { self.trie.remove(pattern: id.key.value, destination: id.destination) }
        return removed.count
    }

    public func route(routingKey: String, headers: FieldTable?) -> Set<Destination> {
        self.trie.match(routingKey[...])
    }

    public var bindings: [Binding] { self.registry.all }
    public var isEmpty: Bool { self.registry.isEmpty }

    /// Trie nodes in use, the root included (for tests: unbinding everything leaves 1).
    public var trieNodeCount: Int { self.trie.nodeCount }
}
