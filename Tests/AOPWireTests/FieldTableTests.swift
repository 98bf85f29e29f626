import AOPWire
import Testing

@Suite struct FieldTableTests {
    static let everyType: FieldTable = [
        "t": .bool(true), "f0": .bool(false),
        "b": .int8(-128), "B": .uint8(255),
        "s": .int16(-32768), "u": .uint16(65535),
        "I": .int32(Int32.min), "i": .uint32(UInt32.max),
        "l": .int64(Int64.min), "L": .uint64(UInt64.max),
        "f": .float(-1.5), "d": .double(3.141592653589793),
        "D": .decimal(scale: 2, value: 12345),
        "S": .longString(Array("héllo".utf8)), "x": .bytes([0, 1, 0xFF]),
        "A": .array([.int32(1), .string("two"), .array([]), .table([:]), .void]),
        "T": .timestamp(1_700_000_000),
        "F": .table(["inner": .table(["deep": .array([.bool(false)])])]),
        "V": .void,
    ]

    @Test func everyTypeRoundTrips() throws {
        var buffer = ByteBuffer()
        buffer.writeFieldTable(Self.everyType)
        let decoded = try buffer.readFieldTable()
        #expect(decoded == Self.everyType)
        #expect(decoded.keys == Self.everyType.keys)  // order kept
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: [
        (FieldValue.bool(true), [UInt8(ascii: "t"), 1]),
        (.int8(-2), [UInt8(ascii: "b"), 0xFE]),
        (.uint8(7), [UInt8(ascii: "B"), 7]),
        (.int16(-2), [UInt8(ascii: "s"), 0xFF, 0xFE]),
        (.uint16(0x0102), [UInt8(ascii: "u"), 1, 2]),
        (.int32(-2), [UInt8(ascii: "I"), 0xFF, 0xFF, 0xFF, 0xFE]),
        (.uint32(0x01020304), [UInt8(ascii: "i"), 1, 2, 3, 4]),
        (.int64(-2), [UInt8(ascii: "l"), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]),
        (.uint64(1), [UInt8(ascii: "L"), 0, 0, 0, 0, 0, 0, 0, 1]),
        (.float(1.0), [UInt8(ascii: "f"), 0x3F, 0x80, 0, 0]),
        (.double(1.0), [UInt8(ascii: "d"), 0x3F, 0xF0, 0, 0, 0, 0, 0, 0]),
        (.decimal(scale: 3, value: 5), [UInt8(ascii: "D"), 3, 0, 0, 0, 5]),
        (.longString([0x61]), [UInt8(ascii: "S"), 0, 0, 0, 1, 0x61]),
        (.bytes([0x62]), [UInt8(ascii: "x"), 0, 0, 0, 1, 0x62]),
        (.array([.uint8(1)]), [UInt8(ascii: "A"), 0, 0, 0, 2, UInt8(ascii: "B"), 1]),
        (.timestamp(2), [UInt8(ascii: "T"), 0, 0, 0, 0, 0, 0, 0, 2]),
        (.table(["k": .void]), [UInt8(ascii: "F"), 0, 0, 0, 3, 1, 0x6B, UInt8(ascii: "V")]),
        (.void, [UInt8(ascii: "V")]),
    ])
    func valueWireFormat(_ value: FieldValue, _ expected: [UInt8]) throws {
        var buffer = ByteBuffer()
        #expect(buffer.writeFieldValue(value) == expected.count)
        #expect(buffer.readableBytesArray == expected)
        #expect(try buffer.readFieldValue() == value)
        #expect(value.typeTag == expected[0])
    }

    @Test func nonZeroBoolOctetIsTrue() throws {
        var buffer = ByteBuffer(bytes: [UInt8(ascii: "t"), 2])
        #expect(try buffer.readFieldValue() == .bool(true))
    }

    @Test func unknownTagIsSyntaxError() {
        // table of 3 bytes: name "k", tag 'Z'
        var buffer = ByteBuffer(bytes: [0, 0, 0, 3, 1, 0x6B, UInt8(ascii: "Z")])
        let error = #expect(throws: AMQPError.self) { try buffer.readFieldTable() }
        #expect(error?.code.replyCode == 502)
        #expect(buffer.readerIndex == 0)
    }

    @Test func tableLengthOverrunningTheBufferIsFrameError() {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 9, 1, 0x6B, UInt8(ascii: "V")])
        let error = #expect(throws: AMQPError.self) { try buffer.readFieldTable() }
        #expect(error?.code == .frameError)
        #expect(buffer.readerIndex == 0)
    }

    @Test func valueOverrunningItsTableIsFrameError() {
        // the table says 4 bytes but the int32 value needs 3 more; the bytes after belong to the next field
        var buffer = ByteBuffer(bytes: [0, 0, 0, 4, 1, 0x6B, UInt8(ascii: "I"), 0, 0, 0, 1])
        let error = #expect(throws: AMQPError.self) { try buffer.readFieldTable() }
        #expect(error?.code == .frameError)
    }

    @Test func arrayElementOverrunIsFrameError() {
        var buffer = ByteBuffer(bytes: [UInt8(ascii: "A"), 0, 0, 0, 2, UInt8(ascii: "s"), 0, 0])
        let error = #expect(throws: AMQPError.self) { try buffer.readFieldValue() }
        #expect(error?.code == .frameError)
    }

    private func nested(_ depth: Int) -> FieldTable {
        var table: FieldTable = ["leaf": 1]
        for _ in 0..<depth { table = ["n": .table(table)] }
        return table
    }

    @Test func nestingUpToTheLimitDecodes() throws {
        var buffer = ByteBuffer()
        let table = nested(FieldTable.maxNestingDepth - 1)  // maxNestingDepth tables in all
        buffer.writeFieldTable(table)
        #expect(try buffer.readFieldTable() == table)
    }

    @Test func nestingBeyondTheLimitIsRejected() {
        var buffer = ByteBuffer()
        buffer.writeFieldTable(nested(FieldTable.maxNestingDepth))
        let error = #expect(throws: AMQPError.self) { try buffer.readFieldTable() }
        #expect(error?.code == .syntaxError)
    }

    @Test func hostileDeepArraysDoNotRecurseUnbounded() {
        // 100 000 nested arrays, each declaring the rest as its content.
        let depth = 100_000
        var bytes: [UInt8] = []
        bytes.reserveCapacity(depth * 5)
        for i in 0..<depth {
            let remaining = UInt32((depth - i - 1) * 5)
            bytes.append(UInt8(ascii: "A"))
            bytes.append(contentsOf: [UInt8(remaining >> 24), UInt8(truncatingIfNeeded: remaining >> 16),
                                      UInt8(truncatingIfNeeded: remaining >> 8), UInt8(truncatingIfNeeded: remaining)])
        }
        var buffer = ByteBuffer(bytes: bytes)
        let error = #expect(throws: AMQPError.self) { try buffer.readFieldValue() }
        #expect(error?.code == .syntaxError)
    }

    @Test func emptyTableIsFourZeroBytes() throws {
        var buffer = ByteBuffer()
        buffer.writeFieldTable([:])
        #expect(buffer.readableBytesArray == [0, 0, 0, 0])
        #expect(try buffer.readFieldTable().isEmpty)
    }

    @Test func duplicateKeysAndOrderSurvive() throws {
        let table = FieldTable([.init(key: "b", value: 1), .init(key: "a", value: 2), .init(key: "b", value: 3)])
        var buffer = ByteBuffer()
        buffer.writeFieldTable(table)
        let decoded = try buffer.readFieldTable()
        #expect(decoded.entries == table.entries)
        #expect(decoded["b"] == .int32(1))
    }
}
