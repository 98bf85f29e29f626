/// A value in an AMQP field table or array, covering every type RabbitMQ's clients send.
///
/// Type tags follow RabbitMQ's errata (not the 0-9-1 spec's table): `s` is a signed 16-bit integer,
/// `I` signed 32-bit, `i` unsigned 32-bit, `l` signed 64-bit. The tag is kept per case so that a decoded
/// table re-encodes to the same bytes.
public enum FieldValue: Sendable, Hashable {
    case bool(Bool)                               // t
    case int8(Int8)                               // b
    case uint8(UInt8)                             // B
    case int16(Int16)                             // s
    case uint16(UInt16)                           // u
    case int32(Int32)                             // I
    case uint32(UInt32)                           // i
    case int64(Int64)                             // l
    case uint64(UInt64)                           // L
    case float(Float)                             // f
    case double(Double)                           // d
    case decimal(scale: UInt8, value: UInt32)     // D
    case longString([UInt8])                      // S
    case bytes([UInt8])                           // x
    case array([FieldValue])                      // A
    case timestamp(UInt64)                        // T
    case table(FieldTable)                        // F
    case void                                     // V

    /// A long string from a Swift string.
    public static func string(_ s: String) -> FieldValue { .longString(Array(s.utf8)) }

    /// The value as a string when it is a long string (or byte array), decoded as UTF-8.
    public var stringValue: String? {
        switch self {
        case .longString(let b), .bytes(let b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }

    /// The value as an integer when it is any integer type (RabbitMQ accepts any for numeric arguments).
    public var integerValue: Int64? {
        switch self {
        case .int8(let v): return Int64(v)
        case .uint8(let v): return Int64(v)
        case .int16(let v): return Int64(v)
        case .uint16(let v): return Int64(v)
        case .int32(let v): return Int64(v)
        case .uint32(let v): return Int64(v)
        case .int64(let v): return v
        case .uint64(let v): return v <= UInt64(Int64.max) ? Int64(v) : nil
        case .timestamp(let v): return v <= UInt64(Int64.max) ? Int64(v) : nil
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var tableValue: FieldTable? {
        if case .table(let t) = self { return t }
        return nil
    }

    public var arrayValue: [FieldValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

extension FieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .longString(Array(value.utf8)) }
    public init(integerLiteral value: Int32) { self = .int32(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
