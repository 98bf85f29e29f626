/// A stress message's identity: the producer (one publishing channel incarnation) and its sequence.
public struct MessageID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var producer: UInt32
    public var sequence: UInt64

    public init(producer: UInt32, sequence: UInt64) {
        self.producer = producer
        self.sequence = sequence
    }

    public static func < (a: MessageID, b: MessageID) -> Bool {
        (a.producer, a.sequence) < (b.producer, b.sequence)
    }

    public var description: String { "p\(self.producer)#\(self.sequence)" }
}

/// The body of every message aop-stress publishes: identity, run and a checksum, then filler.
///
/// Layout (little-endian): "AOPS" · run (u32) · producer (u32) · sequence (u64) · filler length (u32)
/// · FNV-1a of everything before and the filler (u32) · filler. So a delivery names its message even
/// through a broker that reorders, duplicates or corrupts it, and messages of other runs are recognized.
public enum MessageStamp {
    static let magic: [UInt8] = Array("AOPS".utf8)
    /// Bytes before the filler.
    public static let headerSize = 28

    /// What decoding a delivered body found.
    public enum Decoded: Hashable, Sendable {
        case message(run: UInt32, id: MessageID)
        /// Not an aop-stress body, or one whose checksum does not match.
        case corrupt(String)
    }

    /// A body for `id` in `run` with `fillerLength` bytes of filler derived from the id.
    public static func encode(run: UInt32, id: MessageID, fillerLength: Int) -> [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(Self.headerSize + fillerLength)
        Self.append(run, to: &bytes)
        Self.append(id.producer, to: &bytes)
        Self.append(id.sequence, to: &bytes)
        Self.append(UInt32(fillerLength), to: &bytes)
        var filler = StressRandom(seed: UInt64(id.producer) << 40 ^ id.sequence)
        var fillerBytes: [UInt8] = []
        fillerBytes.reserveCapacity(fillerLength)
        while fillerBytes.count < fillerLength { fillerBytes.append(UInt8(truncatingIfNeeded: filler.next())) }
        Self.append(Self.checksum(bytes, fillerBytes), to: &bytes)
        bytes += fillerBytes
        return bytes
    }

    /// Decodes a delivered body.
    public static func decode(_ body: [UInt8]) -> Decoded {
        guard body.count >= Self.headerSize, Array(body[0..<4]) == Self.magic else {
            return .corrupt("not an aop-stress body (\(body.count) bytes)")
        }
        let run = Self.read(UInt32.self, body, at: 4)
        let producer = Self.read(UInt32.self, body, at: 8)
        let sequence = Self.read(UInt64.self, body, at: 12)
        let fillerLength = Int(Self.read(UInt32.self, body, at: 20))
        let sum = Self.read(UInt32.self, body, at: 24)
        guard body.count == Self.headerSize + fillerLength else {
            return .corrupt("p\(producer)#\(sequence): \(body.count) bytes, expected \(Self.headerSize + fillerLength)")
        }
        guard Self.checksum(Array(body[0..<24]), Array(body[Self.headerSize...])) == sum else {
            return .corrupt("p\(producer)#\(sequence): checksum mismatch")
        }
        return .message(run: run, id: MessageID(producer: producer, sequence: sequence))
    }

    static func checksum(_ head: [UInt8], _ filler: [UInt8]) -> UInt32 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in head.prefix(24) { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        for byte in filler { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return hash
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    static func read<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
        return value
    }
}
