extension TopicTrie {
    /// The destinations of every binding key matching `routingKey`.
    ///
    /// Same answers as RabbitMQ's recursive `trie_match`, computed as a simulation of the trie read as
    /// an automaton: the set of nodes reachable after each word is kept (each node once), a `#` node
    /// absorbs any word, and entering a node also enters its `#` child (zero words). The cost is
    /// O(words × live states), never exponential: "#.#.#.#.a" against a long key stays linear, where
    /// the recursive walk explores every way of splitting the words among the `#`s.
    func match(_ routingKey: Substring) -> Set<Destination> {
        var current = StateSet()
        current.insert(Self.root)
        self.closeOverHash(&current)
        var next = StateSet()
        var exhausted = false
        TopicWords.forEach(in: routingKey) { word in
            let key = ExactString(word)
            next.removeAll()
            for n in current.items {
                let index = Int(n)
                if self.nodes[index].isHash { next.insert(n) }
                if let c = self.nodes[index].words[key] { next.insert(c) }
                let star = self.nodes[index].star
                if star >= 0 { next.insert(star) }
            }
            self.closeOverHash(&next)
            swap(&current, &next)
            exhausted = current.items.isEmpty
            return !exhausted
        }
        if exhausted { return [] }
        var result: Set<Destination>?
        for n in current.items {
            let destinations = self.nodes[Int(n)].destinations
            if destinations.isEmpty { continue }
            if result == nil { result = destinations.set } else { result!.formUnion(destinations.set) }
        }
        return result ?? []
    }

    /// Adds the `#` child of every node in the set, transitively (a `#` matches zero words).
    private func closeOverHash(_ set: inout StateSet) {
        var i = 0
        while i < set.items.count {
            let hash = self.nodes[Int(set.items[i])].hash
            if hash >= 0 { set.insert(hash) }
            i += 1
        }
    }
}

/// A small insertion-ordered set of node indexes: a linear scan while small, a hash set beyond.
struct StateSet {
    private(set) var items: [Int32] = []
    private var seen: Set<Int32>?

    init() { self.items.reserveCapacity(8) }

    mutating func insert(_ n: Int32) {
        if self.seen != nil {
            if self.seen!.insert(n).inserted { self.items.append(n) }
            return
        }
        if self.items.contains(n) { return }
        self.items.append(n)
        if self.items.count > 16 { self.seen = Set(self.items) }
    }

    mutating func removeAll() {
        self.items.removeAll(keepingCapacity: true)
        self.seen = nil
    }
}
