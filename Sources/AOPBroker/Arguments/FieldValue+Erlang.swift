public import AOPWire

extension FieldValue {
    /// The type name RabbitMQ's parser gives this value (`rabbit_binary_parser`), as it appears in
    /// RabbitMQ's error texts. Both `l` and `L` decode to `long`.
    public var erlangTypeName: String {
        switch self {
        case .bool: return "bool"
        case .int8: return "byte"
        case .uint8: return "unsignedbyte"
        case .int16: return "short"
        case .uint16: return "unsignedshort"
        case .int32: return "signedint"
        case .uint32: return "unsignedint"
        case .int64, .uint64: return "long"
        case .float: return "float"
        case .double: return "double"
        case .decimal: return "decimal"
        case .longString: return "longstr"
        case .bytes: return "binary"
        case .array: return "array"
        case .timestamp: return "timestamp"
        case .table: return "table"
        case .void: return "void"
        }
    }

    /// The Erlang integer RabbitMQ holds for an integer-typed or timestamp value. `L` (unsigned 64) is
    /// decoded as signed by RabbitMQ, so values above `Int64.max` come out negative, as there.
    var erlangInteger: Int64? {
        switch self {
        case .int8(let v): return Int64(v)
        case .uint8(let v): return Int64(v)
        case .int16(let v): return Int64(v)
        case .uint16(let v): return Int64(v)
        case .int32(let v): return Int64(v)
        case .uint32(let v): return Int64(v)
        case .int64(let v): return v
        case .uint64(let v): return Int64(bitPattern: v)
        case .timestamp(let v): return Int64(bitPattern: v)
        default: return nil
        }
    }

    /// True for the types RabbitMQ accepts as an integer queue argument (`?INTEGER_ARG_TYPES`:
    /// byte, short, signedint, long, unsignedbyte, unsignedshort, unsignedint; not timestamp or decimal).
    var isIntegerArgumentType: Bool {
        switch self {
        case .int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64: return true
        default: return false
        }
    }

    /// The value as an Erlang float (`f` widened to double, as Erlang does).
    var erlangFloat: Double? {
        switch self {
        case .float(let f): return Double(f)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The bytes of a value Erlang holds as a binary (`S` and `x`).
    var erlangBinary: [UInt8]? {
        switch self {
        case .longString(let b), .bytes(let b): return b
        default: return nil
        }
    }
}
