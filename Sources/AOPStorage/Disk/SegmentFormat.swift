/// The header at the start of every segment file (24 bytes, little-endian):
///
///     magic "AOPSEG01" | first position u64 | created-at u64 (ms since the Unix epoch)
///
/// A segment is named `<first position, 20 decimal digits>.seg` so names sort by position.
enum SegmentFormat {
    static let headerSize = 24
    static let magic: [UInt8] = Array("AOPSEG01".utf8)
    static let suffix = ".seg"

    static func header(firstPosition: UInt64, createdAt: UInt64) -> [UInt8] {
        var bytes = magic
        bytes.appendLittleEndian(firstPosition)
        bytes.appendLittleEndian(createdAt)
        return bytes
    }

    /// (first position, created-at), or nil when the header is missing or wrong.
    static func parseHeader(_ bytes: [UInt8]) -> (firstPosition: UInt64, createdAt: UInt64)? {
        guard bytes.count >= headerSize, Array(bytes[0..<8]) == magic else { return nil }
        return (bytes.loadLittleEndian(UInt64.self, at: 8), bytes.loadLittleEndian(UInt64.self, at: 16))
    }

    static func fileName(firstPosition: UInt64) -> String {
        let digits = String(firstPosition)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    static func firstPosition(fileName: String) -> UInt64? {
        guard fileName.hasSuffix(suffix) else { return nil }
        return UInt64(fileName.dropLast(suffix.count))
    }
}
