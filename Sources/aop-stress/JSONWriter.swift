/// A minimal JSON writer for the summary (no Foundation).
struct JSONWriter {
    enum Value {
        case int(Int)
        case uint(UInt64)
        case double(Double)
        case string(String)
        case bool(Bool)
        case null
        case array([Value])
        case object([(String, Value)])
    }

    static func render(_ value: Value, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case .int(let v): return String(v)
        case .uint(let v): return String(v)
        case .double(let v): return v.isFinite ? String(v) : "null"
        case .bool(let v): return v ? "true" : "false"
        case .null: return "null"
        case .string(let s): return Self.quote(s)
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { inner + Self.render($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let fields):
            if fields.isEmpty { return "{}" }
            return "{\n" + fields.map { inner + Self.quote($0.0) + ": " + Self.render($0.1, indent: inner) }
                .joined(separator: ",\n") + "\n\(indent)}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func counts(_ dictionary: [String: Int]) -> Value {
        .object(dictionary.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })
    }
}
