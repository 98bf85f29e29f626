import AOPWire

/// RabbitMQ 3.13's per-argument checks (`rabbit_amqqueue:check_*_arg`). Each returns nil when the
/// value is acceptable, else the error term as RabbitMQ prints it with `~255p`.
enum QueueArgumentChecks {
    typealias Check = @Sendable (FieldValue, FieldTable) -> String?

    /// Ten years in milliseconds: RabbitMQ's upper bound for TTLs and expiries (`check_expiry`).
    static let maxExpiry: Int64 = 315_360_000_000

    /// `declare_args()`, in RabbitMQ's order.
    static let declareArguments: [(String, Check)] = [
        ("x-expires", { v, _ in expires(v) }),
        ("x-message-ttl", { v, _ in integer(v) ?? expiry(v.erlangInteger!) }),
        ("x-dead-letter-exchange", { v, _ in longString(v) }),
        ("x-dead-letter-routing-key", { v, args in
            longString(v) ?? (args["x-dead-letter-exchange"] == nil ? "routing_key_but_no_dlx_defined" : nil)
        }),
        ("x-dead-letter-strategy", { v, _ in oneOf(v, ["at-most-once", "at-least-once"], "invalid_dlx_strategy") }),
        ("x-max-length", { v, _ in nonNegative(v) }),
        ("x-max-length-bytes", { v, _ in nonNegative(v) }),
        ("x-max-in-memory-length", { v, _ in nonNegative(v) }),
        ("x-max-in-memory-bytes", { v, _ in nonNegative(v) }),
        ("x-max-priority", { v, _ in
            nonNegative(v) ?? (v.erlangInteger! > 255 ? "{max_value_exceeded,\(v.erlangInteger!)}" : nil)
        }),
        ("x-overflow", { v, _ in oneOf(v, OverflowBehaviour.allCases.map(\.rawValue), "invalid_overflow") }),
        ("x-queue-mode", { v, _ in
            if let e = longString(v) { return e }
            let mode = ErlangFormat.text(v.erlangBinary!)
            return ["default", "lazy"].contains(mode) ? nil : ErlangFormat.charList("unsupported queue mode '\(mode)'")
        }),
        ("x-queue-version", { v, _ in
            if let e = nonNegative(v) { return e }
            let n = v.erlangInteger!
            return n == 1 || n == 2 ? nil : ErlangFormat.charList("unsupported queue version '\(n)'")
        }),
        ("x-single-active-consumer", { v, _ in
            if case .bool = v { return nil }
            return "{unacceptable_type,\(v.erlangTypeName)}"
        }),
        ("x-queue-type", { v, _ in queueType(v) }),
        ("x-quorum-initial-group-size", { v, _ in positive(v) }),
        ("x-max-age", { v, _ in
            if let e = longString(v) { return e }
            return maxAgeIsValid(ErlangFormat.text(v.erlangBinary!)) ? nil : "invalid_max_age"
        }),
        ("x-stream-max-segment-size-bytes", { v, _ in nonNegative(v) }),
        ("x-stream-filter-size-bytes", { v, _ in nonNegative(v) }),
        ("x-initial-cluster-size", { v, _ in positive(v) }),
        ("x-queue-leader-locator", { v, _ in
            oneOf(v, ["client-local", "balanced"], "invalid_queue_locator_arg")
        }),
    ]

    static func integer(_ v: FieldValue) -> String? {
        v.isIntegerArgumentType ? nil : ErlangFormat.charList("expected integer, got \(v.erlangTypeName)")
    }

    static func nonNegative(_ v: FieldValue) -> String? {
        if let e = integer(v) { return e }
        let n = v.erlangInteger!
        return n >= 0 ? nil : "{value_negative,\(n)}"
    }

    static func positive(_ v: FieldValue) -> String? {
        if let e = nonNegative(v) { return e }
        return v.erlangInteger! == 0 ? "{value_zero,0}" : nil
    }

    static func expiry(_ n: Int64) -> String? {
        if n < 0 { return "{value_negative,\(n)}" }
        if n > maxExpiry { return "{value_too_large,\(n)}" }
        return nil
    }

    static func expires(_ v: FieldValue) -> String? {
        if let e = integer(v) { return e }
        let n = v.erlangInteger!
        return n == 0 ? "{value_zero,0}" : expiry(n)
    }

    static func longString(_ v: FieldValue) -> String? {
        if case .longString = v { return nil }
        return "{unacceptable_type,\(v.erlangTypeName)}"
    }

    static func oneOf(_ v: FieldValue, _ allowed: [String], _ error: String) -> String? {
        if let e = longString(v) { return e }
        return allowed.contains(where: { Array($0.utf8) == v.erlangBinary! }) ? nil : error
    }

    static func queueType(_ v: FieldValue) -> String? {
        if let e = longString(v) { return e }
        let name = ErlangFormat.text(v.erlangBinary!)
        return QueueType(rawValue: name) != nil ? nil : ErlangFormat.charList("unsupported queue type '\(name)'")
    }

    /// `check_max_age`: a positive integer followed by one of Y M D h m s.
    static func maxAgeIsValid(_ s: String) -> Bool {
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        guard let n = Int(digits), n > 0 else { return false }
        return ["Y", "M", "D", "h", "m", "s"].contains(String(s.dropFirst(digits.count)))
    }
}
