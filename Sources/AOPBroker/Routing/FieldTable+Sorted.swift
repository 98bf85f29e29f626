public import AOPWire

extension FieldTable {
    /// The table with its entries stably sorted by key bytes: RabbitMQ's `rabbit_misc:sort_field_table`
    /// (`lists:keysort/2`), which it applies to binding arguments before storing or comparing a binding.
    /// Only the top level is sorted; duplicate keys keep their relative order.
    public func sortedByKey() -> FieldTable {
        var isSorted = true
        var previous: Substring?
        for entry in self.entries {
            if let p = previous, ExactString.precedes(entry.key[...], p) { isSorted = false; break }
            previous = entry.key[...]
        }
        if isSorted { return self }
        let sorted = self.entries.enumerated().sorted { a, b in
            if ExactString.precedes(a.element.key[...], b.element.key[...]) { return true }
            if ExactString.precedes(b.element.key[...], a.element.key[...]) { return false }
            return a.offset < b.offset
        }
        return FieldTable(sorted.map(\.element))
    }
}
