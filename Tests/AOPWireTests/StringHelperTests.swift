import AOPWire
import Testing

@Suite struct StringHelperTests {
    @Test func shortStringRoundTrip() {
        var buffer = ByteBuffer()
        #expect(buffer.writeShortString("héllo") == 7)
        #expect(buffer.readableBytesArray.first == 6)
        #expect(buffer.readShortString() == "héllo")
        #expect(buffer.readableBytes == 0)
    }

    @Test func shortStringNeedsAllItsBytes() {
        var buffer = ByteBuffer(bytes: [3, 0x61, 0x62])
        #expect(buffer.readShortString() == nil)
        #expect(buffer.readerIndex == 0)
        var empty = ByteBuffer()
        #expect(empty.readShortString() == nil)
    }

    @Test func exactly255BytesIsKept() {
        let s = String(repeating: "a", count: 255)
        var buffer = ByteBuffer()
        #expect(buffer.writeShortString(s) == 256)
        #expect(buffer.readShortString() == s)
    }

    @Test func longShortStringIsTruncatedOnAScalarBoundary() {
        // 254 ASCII bytes then "é" (2 bytes): cutting at 255 would split it, so 254 bytes are kept.
        let s = String(repeating: "a", count: 254) + "é" + "zzz"
        var buffer = ByteBuffer()
        #expect(buffer.writeShortString(s) == 255)
        #expect(buffer.readShortString() == String(repeating: "a", count: 254))
        let ascii = String(repeating: "b", count: 300)
        buffer.writeShortString(ascii)
        #expect(buffer.readShortString() == String(repeating: "b", count: 255))
    }

    @Test func longStringRoundTrip() {
        var buffer = ByteBuffer()
        buffer.writeLongString([0, 1, 2])
        buffer.writeLongString("text")
        #expect(buffer.readLongString() == [0, 1, 2])
        #expect(buffer.readLongStringAsString() == "text")
        var short = ByteBuffer(bytes: [0, 0, 0, 5, 1])
        #expect(short.readLongString() == nil)
        #expect(short.readerIndex == 0)
    }

    @Test func integersAreBigEndian() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(0x0102_0304))
        buffer.writeInteger(Int16(-2))
        #expect(buffer.readableBytesArray == [1, 2, 3, 4, 0xFF, 0xFE])
        buffer.setInteger(UInt16(0xABCD), at: 1)
        #expect(buffer.readInteger(as: UInt32.self) == 0x01AB_CD04)
        #expect(buffer.readInteger(as: Int16.self) == -2)
        #expect(buffer.readInteger(as: UInt8.self) == nil)
    }
}
