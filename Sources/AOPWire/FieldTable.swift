/// An AMQP field table: an ordered list of (name, value) pairs. Order is kept so that a decoded
/// table re-encodes byte for byte; lookups return the first entry with the name.
public struct FieldTable: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: FieldValue
        public init(key: String, value: FieldValue) {
            self.key = key
            self.value = value
        }
    }

    public var entries: [Entry]

    public init() { self.entries = [] }
    public init(_ entries: [Entry]) { self.entries = entries }

    public var isEmpty: Bool { self.entries.isEmpty }
    public var count: Int { self.entries.count }
    public var keys: [String] { self.entries.map(\.key) }

    public subscript(key: String) -> FieldValue? {
        get { self.entries.first { $0.key == key }?.value }
        set {
            if let i = self.entries.firstIndex(where: { $0.key == key }) {
                if let newValue { self.entries[i].value = newValue } else { self.entries.remove(at: i) }
            } else if let newValue {
                self.entries.append(Entry(key: key, value: newValue))
            }
        }
    }
}

extension FieldTable: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, FieldValue)...) {
        self.entries = elements.map { Entry(key: $0.0, value: $0.1) }
    }
}

extension FieldTable: Sequence {
    public func makeIterator() -> IndexingIterator<[Entry]> { self.entries.makeIterator() }
}
