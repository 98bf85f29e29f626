/// The binding keys of a topic exchange as a trie of words (RabbitMQ's topic trie: one edge per word,
/// with `*` and `#` as ordinary edges). Nodes live in one array and refer to each other by index, so the
/// whole trie is a plain value; freed nodes are reused.
struct TopicTrie: Sendable {
    /// The label of the edge from a node's parent to it.
    enum Edge: Hashable, Sendable {
        case word(ExactString)
        case star
        case hash

        init(_ word: Substring) {
            if word == "*" { self = .star } else if word == "#" { self = .hash } else { self = .word(ExactString(word)) }
        }
    }

    struct Node: Sendable {
        var words: [ExactString: Int32] = [:]
        var star: Int32 = -1
        var hash: Int32 = -1
        /// Reached through a `#` edge: such a node may also absorb any number of further words.
        var isHash = false
        var parent: Int32 = -1
        var edge: Edge? = nil
        /// Destinations of the binding keys that end at this node.
        var destinations = DestinationMultiset()

        var hasChildren: Bool { !self.words.isEmpty || self.star >= 0 || self.hash >= 0 }
    }

    static let root: Int32 = 0
    private(set) var nodes: [Node] = [Node()]
    private var freeList: [Int32] = []

    /// Nodes in use (the root included).
    var nodeCount: Int { self.nodes.count - self.freeList.count }

    func child(_ node: Int32, _ edge: Edge) -> Int32? {
        let n = self.nodes[Int(node)]
        switch edge {
        case .word(let w): return n.words[w]
        case .star: return n.star >= 0 ? n.star : nil
        case .hash: return n.hash >= 0 ? n.hash : nil
        }
    }

    /// Adds one occurrence of `destination` at the end of `pattern`.
    mutating func insert(pattern: Substring, destination: Destination) {
        var node = Self.root
        TopicWords.forEach(in: pattern) { word in
            let edge = Edge(word)
            node = self.child(node, edge) ?? self.addChild(node, edge)
            return true
        }
        self.nodes[Int(node)].destinations.insert(destination)
    }

    /// Removes one occurrence of `destination` at the end of `pattern`, pruning nodes left empty.
    mutating func remove(pattern: Substring, destination: Destination) {
        var node: Int32? = Self.root
        TopicWords.forEach(in: pattern) { word in
            node = self.child(node!, Edge(word))
            return node != nil
        }
        guard var current = node else { return }
        self.nodes[Int(current)].destinations.remove(destination)
        while current != Self.root, self.nodes[Int(current)].destinations.isEmpty,
              !self.nodes[Int(current)].hasChildren {
            let parent = self.nodes[Int(current)].parent
            switch self.nodes[Int(current)].edge {
            case .word(let w)?: self.nodes[Int(parent)].words[w] = nil
            case .star?: self.nodes[Int(parent)].star = -1
            case .hash?: self.nodes[Int(parent)].hash = -1
            case nil: preconditionFailure("only the root has no edge")
            }
            self.nodes[Int(current)] = Node()
            self.freeList.append(current)
            current = parent
        }
    }

    private mutating func addChild(_ parent: Int32, _ edge: Edge) -> Int32 {
        var node = Node()
        node.parent = parent
        node.edge = edge
        node.isHash = edge == .hash
        let index: Int32
        if let reused = self.freeList.popLast() {
            index = reused
            self.nodes[Int(index)] = node
        } else {
            index = Int32(self.nodes.count)
            self.nodes.append(node)
        }
        switch edge {
        case .word(let w): self.nodes[Int(parent)].words[w] = index
        case .star: self.nodes[Int(parent)].star = index
        case .hash: self.nodes[Int(parent)].hash = index
        }
        return index
    }
}
