/// File-system-safe directory names for topics: ASCII letters, digits, `-` and `_` are kept, every
/// other UTF-8 byte becomes `%XX`. The mapping is injective, so distinct topics never share a directory.
enum TopicDirectoryName {
    static func escape(_ name: String) -> String {
        var result = ""
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                result += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return result.isEmpty ? "%" : result
    }
}
