import AOPWire

/// Renders values the way RabbitMQ's error texts print them with `~tp` / `~p`, so that reply texts
/// read like RabbitMQ's: binaries as `<<"abc">>`, strings (char lists) as `"abc"`, atoms bare,
/// tuples `{a,1}`. Line breaking of long terms (io_lib's 80-column layout) is not reproduced.
enum ErlangFormat {
    /// `~tp` of a binary.
    static func binary(_ bytes: [UInt8]) -> String {
        if bytes.isEmpty { return "<<>>" }
        if let text = String(validating: bytes, as: UTF8.self),
           text.unicodeScalars.allSatisfy({ isPrintable($0.value) }) {
            let quoted = escaped(text.unicodeScalars.map(\.value))
            return bytes.allSatisfy({ $0 < 0x80 }) ? "<<\"\(quoted)\">>" : "<<\"\(quoted)\"/utf8>>"
        }
        return "<<" + bytes.map(String.init).joined(separator: ",") + ">>"
    }

    /// `~tp` of a string held as a list of character codes (e.g. the text of an error reason).
    static func charList(_ text: String) -> String {
        charList(codes: text.unicodeScalars.map(\.value))
    }

    /// `~tp` of a list of character codes: quoted when printable, else a list of integers.
    static func charList(codes: [UInt32]) -> String {
        if codes.isEmpty { return "[]" }
        if codes.allSatisfy(isPrintable) { return "\"" + escaped(codes) + "\"" }
        return "[" + codes.map(String.init).joined(separator: ",") + "]"
    }

    /// `~tp` of a float (shortest round-trip digits, Erlang's spelling: `1.5`, `100.0`, `1.0e-5`).
    static func float(_ d: Double) -> String {
        let magnitude = abs(d)
        if magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e16) {
            var s = "\(d)"
            if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) { s = String(s[..<e]) }  // cannot happen in range
            if !s.contains(".") { s += ".0" }
            return s
        }
        // Swift spells 1e-05 as "1e-05"; Erlang as "1.0e-5".
        let parts = "\(d)".lowercased().split(separator: "e", maxSplits: 1)
        var mantissa = String(parts[0])
        if !mantissa.contains(".") { mantissa += ".0" }
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        return "\(mantissa)e\(exponent)"
    }

    /// `~tp` of the value part of a table entry as RabbitMQ holds it.
    static func value(_ v: FieldValue) -> String {
        if let i = v.erlangInteger { return String(i) }
        if let f = v.erlangFloat { return float(f) }
        if let b = v.erlangBinary { return binary(b) }
        switch v {
        case .bool(let b): return b ? "true" : "false"
        case .decimal(let scale, let value): return "{\(scale),\(value)}"
        case .void: return "undefined"
        case .table(let t):
            return "[" + t.entries.map { "{\(binary(Array($0.key.utf8))),\($0.value.erlangTypeName),\(value($0.value))}" }
                .joined(separator: ",") + "]"
        case .array(let a):
            return "[" + a.map { "{\($0.erlangTypeName),\(value($0))}" }.joined(separator: ",") + "]"
        default: return "undefined"
        }
    }

    /// `~ts` of a binary: its text as is.
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    private static func isPrintable(_ c: UInt32) -> Bool {
        switch c {
        case 8...13, 27: return true                 // \b \t \n \v \f \r \e
        case 32...126: return true
        case 160...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    private static func escaped(_ codes: [UInt32]) -> String {
        var out = ""
        for c in codes {
            switch c {
            case 34: out += "\\\""
            case 92: out += "\\\\"
            case 8: out += "\\b"
            case 9: out += "\\t"
            case 10: out += "\\n"
            case 11: out += "\\v"
            case 12: out += "\\f"
            case 13: out += "\\r"
            case 27: out += "\\e"
            default: out.unicodeScalars.append(Unicode.Scalar(c) ?? "?")
            }
        }
        return out
    }
}
