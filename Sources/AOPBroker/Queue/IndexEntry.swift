import AOPStorage

/// A queue index entry: where a message lives (message topic id + position) and what the queue needs
/// to know without reading the body (expiry, body size, persistence).
///
/// Record layout (26 bytes, big-endian): `u8 version(1)`, `u32 topic id`, `u64 message position`,
/// `i64 expires-at (ms since the Unix epoch, 0 = never)`, `u32 body size`, `u8 flags (bit 0 = persistent)`.
///
/// In memory it is 24 bytes (the persistent flag is the top bit of the body-size word), so an in-memory
/// index topic holds it as a value without boxing it (`InMemoryTopic.appendNow(_:values:)`).
struct IndexEntry: Hashable, Sendable {
    static let version: UInt8 = 1
    static let encodedSize = 26
    private static let persistentBit: UInt32 = 1 << 31

    var messagePosition: Position
    var expiresAt: Int64
    var topicID: UInt32
    /// Body size (31 bits) and the persistent flag (bit 31).
    private var sizeAndFlags: UInt32

    /// Body size in bytes (at most 2^31 - 1: larger sizes are clamped, far above any allowed message).
    var bodySize: UInt32 {
        get { self.sizeAndFlags & ~Self.persistentBit }
        set { self.sizeAndFlags = (self.sizeAndFlags & Self.persistentBit) | min(newValue, ~Self.persistentBit) }
    }

    var persistent: Bool {
        get { self.sizeAndFlags & Self.persistentBit != 0 }
        set { self.sizeAndFlags = newValue ? self.sizeAndFlags | Self.persistentBit : self.sizeAndFlags & ~Self.persistentBit }
    }

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.encodedSize)
        func put<T: FixedWidthInteger>(_ v: T) {
            var shift = (MemoryLayout<T>.size - 1) * 8
            while shift >= 0 {
                out.append(UInt8(truncatingIfNeeded: v >> shift))
                shift -= 8
            }
        }
        put(Self.version)
        put(self.topicID)
        put(self.messagePosition.raw)
        put(self.expiresAt)
        put(self.bodySize)
        put(UInt8(self.persistent ? 1 : 0))
        return out
    }

    /// nil when the record is not a version-1 index entry.
    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= Self.encodedSize, bytes[0] == Self.version else { return nil }
        func get<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            var v: T = 0
            for i in 0..<MemoryLayout<T>.size { v = (v << 8) | T(truncatingIfNeeded: bytes[at + i]) }
            return v
        }
        self.init(topicID: get(1, UInt32.self), messagePosition: Position(get(5, UInt64.self)),
                  expiresAt: get(13, Int64.self), bodySize: get(21, UInt32.self), persistent: bytes[25] & 1 != 0)
    }

    init(topicID: UInt32, messagePosition: Position, expiresAt: Int64, bodySize: UInt32, persistent: Bool) {
        self.topicID = topicID
        self.messagePosition = messagePosition
        self.expiresAt = expiresAt
        self.sizeAndFlags = min(bodySize, ~Self.persistentBit) | (persistent ? Self.persistentBit : 0)
    }

    func isExpired(now: Int64) -> Bool { self.expiresAt != 0 && self.expiresAt <= now }
}
