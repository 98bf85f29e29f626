public import AOPWire

/// RabbitMQ's `rabbit_misc:assert_args_equivalence`: on redeclare, a fixed list of argument keys must
/// be equivalent between the stored and the received arguments, else 406 PRECONDITION_FAILED
/// `inequivalent arg 'x-…' for queue 'q' in vhost '/': received … but current is …`.
///
/// Two present values are equivalent when their types are of one class (all integer types and
/// decimal; float and double; otherwise the same type) and their values are equal, or when the bare
/// values are identical (so `S` "a" and `x` "a" pass). A missing `x-queue-type` and "classic" are
/// equivalent.
public enum ArgumentEquivalence {
    /// The keys RabbitMQ compares when a classic queue is redeclared, in its order.
    public static let classicQueueKeys: [String] = QueueType.classic.argumentKeys
    /// The keys compared when an exchange is redeclared.
    public static let exchangeKeys: [String] = ["alternate-exchange"]

    /// Throws for the first key (in `keys` order) whose values are not equivalent.
    /// - Parameters:
    ///   - resource: how RabbitMQ names the object, e.g. "queue 'q' in vhost '/'".
    public static func assertEquivalent(current: FieldTable, received: FieldTable, keys: [String],
                                        resource: String) throws(AMQPError) {
        for key in keys {
            let old = current[key]
            let new = received[key]
            switch (old, new) {
            case (nil, nil):
                continue
            case (let o?, let n?):
                if typeClass(o) == typeClass(n) && classEqual(o, n) { continue }
                if ErlangEquality.valueEqual(o, n, headerTimestampInMilliseconds: false) { continue }
                throw fail(key, resource, received: "'\(bare(n))'", current: "'\(bare(o))'")
            case (nil, let n?):
                if key == "x-queue-type", n == .string("classic") { continue }
                throw fail(key, resource, received: described(n), current: "none")
            case (let o?, nil):
                if key == "x-queue-type", o == .string("classic") { continue }
                throw fail(key, resource, received: "none", current: described(o))
            }
        }
    }

    private static func fail(_ key: String, _ resource: String, received: String, current: String) -> AMQPError {
        .preconditionFailed("inequivalent arg '\(key)' for \(resource): received \(received) but current is \(current)")
    }

    private static func typeClass(_ v: FieldValue) -> String {
        switch v {
        case .int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64, .decimal: return "int"
        case .float, .double: return "float"
        default: return v.erlangTypeName
        }
    }

    /// Erlang `==` within one type class (integers and floats by value; decimals as tuples).
    private static func classEqual(_ a: FieldValue, _ b: FieldValue) -> Bool {
        if let x = a.erlangInteger, let y = b.erlangInteger { return x == y }
        return ErlangEquality.valueEqual(a, b, headerTimestampInMilliseconds: false)
    }

    /// `~ts` for binaries, `~tp` otherwise.
    private static func bare(_ v: FieldValue) -> String {
        if let b = v.erlangBinary { return ErlangFormat.text(b) }
        return ErlangFormat.value(v)
    }

    private static func described(_ v: FieldValue) -> String {
        "the value '\(bare(v))' of type '\(v.erlangTypeName)'"
    }
}
