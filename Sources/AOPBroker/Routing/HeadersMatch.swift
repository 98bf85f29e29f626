public import AOPWire

/// The `x-match` modes of a headers binding (RabbitMQ 3.13 `rabbit_exchange_type_headers`).
public enum HeadersMatch: String, Sendable, Hashable, CaseIterable {
    /// Every considered argument matches (the default, also used for a missing x-match).
    case all
    /// At least one considered argument matches.
    case any
    /// As `all`, but arguments whose keys start with "x-" are considered too (except x-match).
    case allWithX = "all-with-x"
    /// As `any`, but arguments whose keys start with "x-" are considered too (except x-match).
    case anyWithX = "any-with-x"

    /// The mode a binding's arguments select: the first `x-match` entry when it is a long string
    /// naming a mode, else `all` (what RabbitMQ's router does; `validate` rejects the other cases).
    public init(arguments: FieldTable) {
        if case .longString(let bytes)? = arguments["x-match"],
           let mode = HeadersMatch(rawValue: String(decoding: bytes, as: UTF8.self)),
           Array(mode.rawValue.utf8) == bytes {
            self = mode
        } else {
            self = .all
        }
    }

    var requiresAll: Bool { self == .all || self == .allWithX }
    var considersXArguments: Bool { self == .allWithX || self == .anyWithX }
}
