public import AOPWire

/// The headers exchange, as RabbitMQ 3.13 matches (`rabbit_exchange_type_headers`):
///
/// - The binding's `x-match` (see `HeadersMatch`) picks all/any and whether "x-" arguments count.
///   Under `all`/`any` every argument whose key starts with "x-" is skipped; under the `-with-x`
///   modes only `x-match` itself is. `all` with nothing left to compare matches every message;
///   `any` with nothing left matches none.
/// - An argument of type void (`V`) matches when the header is present, whatever its value.
/// - Otherwise the header's value must equal the argument's value under Erlang `=:=` on the bare
///   values (types dropped at the top level): every integer type compares by value, `S` and `x`
///   compare by bytes, integers never equal floats, `f` and `d` compare as doubles, tables and arrays
///   compare structurally WITH their element types, and a timestamp header is compared in
///   milliseconds (RabbitMQ's routing view multiplies it by 1000). See `ErlangEquality`.
/// - Header keys are matched byte for byte; a repeated header key counts with its last value.
///
/// Routing is linear in the number of bindings, as in RabbitMQ; a destination already reached is not
/// matched again.
public struct HeadersRouter: Router {
    struct Condition: Sendable {
        var key: ExactString
        var value: FieldValue
    }

    struct Entry: Sendable {
        var id: BindingID
        var requiresAll: Bool
        var conditions: [Condition]

        init(_ id: BindingID) {
            self.id = id
            let mode = HeadersMatch(arguments: id.arguments)
            self.requiresAll = mode.requiresAll
            self.conditions = id.arguments.entries.compactMap { entry in
                let key = ExactString(entry.key)
                if mode.considersXArguments {
                    if entry.key == "x-match", key == ExactString("x-match") { return nil }
                } else if key.hasBytePrefix("x-") {
                    return nil
                }
                return Condition(key: key, value: entry.value)
            }
        }

        func matches(_ headers: HeaderLookup) -> Bool {
            if self.requiresAll {
                for c in self.conditions where !Self.matches(c, headers) { return false }
                return true
            }
            for c in self.conditions where Self.matches(c, headers) { return true }
            return false
        }

        private static func matches(_ c: Condition, _ headers: HeaderLookup) -> Bool {
            guard let value = headers[c.key] else { return false }
            if case .void = c.value { return true }
            return ErlangEquality.headerMatches(binding: c.value, header: value)
        }
    }

    private var registry = BindingRegistry()
    private var entries: [Entry] = []
    private var position: [BindingID: Int] = [:]

    public init() {}

    public mutating func bind(_ binding: Binding) -> Bool {
        let id = BindingID(binding)
        guard self.registry.insert(id) else { return false }
        self.position[id] = self.entries.count
        self.entries.append(Entry(id))
        return true
    }

    public mutating func unbind(_ binding: Binding) -> Bool {
        let id = BindingID(binding)
        guard self.registry.remove(id) else { return false }
        self.removeEntry(id)
        return true
    }

    public mutating func unbindAll(destination: Destination) -> Int {
        let removed = self.registry.removeAll(destination: destination)
        for id in removed { self.removeEntry(id) }
        return removed.count
    }

    public func route(routingKey: String, headers: FieldTable?) -> Set<Destination> {
        guard !self.entries.isEmpty else { return [] }
        let lookup = HeaderLookup(headers)
        var result: Set<Destination> = []
        for entry in self.entries where !result.contains(entry.id.destination) && entry.matches(lookup) {
            result.insert(entry.id.destination)
        }
        return result
    }

    public var bindings: [Binding] { self.registry.all }
    public var isEmpty: Bool { self.registry.isEmpty }

    public func validate(_ binding: Binding) throws(AMQPError) {
        try Self.validate(arguments: binding.arguments)
    }

    private mutating func removeEntry(_ id: BindingID) {
        guard let i = self.position.removeValue(forKey: id) else { return }
        let last = self.entries.removeLast()
        if i < self.entries.count {
            self.entries[i] = last
            self.position[last.id] = i
        }
    }
}
