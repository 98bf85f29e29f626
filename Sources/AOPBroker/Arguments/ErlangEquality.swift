import AOPWire

/// Erlang term equality (`=:=`) over field values in the shapes RabbitMQ holds them.
///
/// A top-level table entry is `{Key, Type, Value}`, an array element `{Type, Value}`; nested values
/// therefore compare type AND value, while a header exchange compares top-level header values
/// without their type (see `headerMatches`).
enum ErlangEquality {
    /// `=:=` of two `{Type, Value}` pairs: same RabbitMQ type name and equal value.
    static func typedEqual(_ a: FieldValue, _ b: FieldValue) -> Bool {
        guard a.erlangTypeName == b.erlangTypeName else { return false }
        return valueEqual(a, b, headerTimestampInMilliseconds: false)
    }

    /// `=:=` of two tables as lists of `{Key, Type, Value}` (order matters, keys byte-compared).
    static func tablesEqual(_ a: FieldTable, _ b: FieldTable) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a.entries, b.entries) {
            guard ExactString(x.key) == ExactString(y.key), typedEqual(x.value, y.value) else { return false }
        }
        return true
    }

    /// `=:=` of two arrays as lists of `{Type, Value}`.
    static func arraysEqual(_ a: [FieldValue], _ b: [FieldValue]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where !typedEqual(x, y) { return false }
        return true
    }

    /// The headers exchange's comparison `maps:get(K, Headers) =:= V`: the binding argument's bare
    /// value against the header's routing value (`mc_amqpl:routing_headers`), types dropped. So all
    /// integer types compare by value (`I` 5 matches `l` 5), `S` and `x` with the same bytes match,
    /// an integer never matches a float, and a top-level timestamp header counts in milliseconds
    /// (RabbitMQ multiplies it by 1000 for routing while the binding value stays as sent).
    static func headerMatches(binding: FieldValue, header: FieldValue) -> Bool {
        valueEqual(binding, header, headerTimestampInMilliseconds: true)
    }

    /// Bare-value `=:=`; `headerTimestampInMilliseconds` scales `b` when it is a timestamp.
    static func valueEqual(_ a: FieldValue, _ b: FieldValue, headerTimestampInMilliseconds: Bool) -> Bool {
        if let x = a.erlangInteger {
            guard let y = b.erlangInteger else { return false }
            if headerTimestampInMilliseconds, case .timestamp = b { return Int128(x) == Int128(y) * 1000 }
            return x == y
        }
        if let x = a.erlangFloat { return b.erlangFloat == x }
        if let x = a.erlangBinary { return b.erlangBinary == x }
        switch a {
        case .bool(let x):
            if case .bool(let y) = b { return x == y }
            return false
        case .decimal(let s, let v):
            if case .decimal(let t, let w) = b { return s == t && v == w }
            return false
        case .void:
            if case .void = b { return true }
            return false
        case .table(let x):
            switch b {
            case .table(let y): return tablesEqual(x, y)
            case .array(let y): return x.isEmpty && y.isEmpty   // both are [] in Erlang
            default: return false
            }
        case .array(let x):
            switch b {
            case .array(let y): return arraysEqual(x, y)
            case .table(let y): return x.isEmpty && y.isEmpty
            default: return false
            }
        default:
            return false
        }
    }
}
