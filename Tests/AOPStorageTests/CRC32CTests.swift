@testable import AOPStorage
import Testing

@Suite struct CRC32CTests {
    /// Bit-at-a-time reference implementation.
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        // RFC 3720 (iSCSI) B.4 test vectors.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    @Test func slicingMatchesBitwiseReferenceForEveryLengthAndSplit() {
        var rng = SeededGenerator(seed: 7)
        let bytes = (0..<200).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for length in 0...bytes.count {
            let slice = Array(bytes[0..<length])
            #expect(CRC32C.checksum(slice) == Self.reference(slice))
        }
        for split in stride(from: 0, through: 200, by: 13) {
            let combined = CRC32C.update(CRC32C.checksum(Array(bytes[..<split])), Array(bytes[split...]))
            #expect(combined == Self.reference(bytes))
        }
    }
}
