import AOPWire

/// A message's headers as RabbitMQ's headers exchange sees them: a map from key (bytes) to value, the
/// last entry winning when a key repeats. Small tables are scanned; larger ones hashed once per route.
struct HeaderLookup {
    private let table: FieldTable
    private let map: [ExactString: FieldValue]?

    init(_ headers: FieldTable?) {
        let table = headers ?? FieldTable()
        self.table = table
        if table.count > 8 {
            var map: [ExactString: FieldValue] = [:]
            map.reserveCapacity(table.count)
            for entry in table.entries { map[ExactString(entry.key)] = entry.value }
            self.map = map
        } else {
            self.map = nil
        }
    }

    subscript(key: ExactString) -> FieldValue? {
        if let map = self.map { return map[key] }
        for entry in self.table.entries.reversed() where ExactString(entry.key) == key { return entry.value }
        return nil
    }
}
