/// Field-table and field-value codec (RabbitMQ's errata type tags, see `FieldValue`).
///
/// Errors: a table or value that runs past its declared length (or the frame) is 501 FRAME_ERROR,
/// as RabbitMQ's `cannot decode`; an unknown type tag or nesting deeper than
/// `FieldTable.maxNestingDepth` is 502 SYNTAX_ERROR.
extension FieldTable {
    /// How deeply tables and arrays may nest inside one another when decoding, so a hostile
    /// frame cannot exhaust the stack.
    public static let maxNestingDepth = 100
}

extension FieldValue {
    /// The one-byte type tag written before the value.
    public var typeTag: UInt8 {
        switch self {
        case .bool: UInt8(ascii: "t")
        case .int8: UInt8(ascii: "b")
        case .uint8: UInt8(ascii: "B")
        case .int16: UInt8(ascii: "s")
        case .uint16: UInt8(ascii: "u")
        case .int32: UInt8(ascii: "I")
        case .uint32: UInt8(ascii: "i")
        case .int64: UInt8(ascii: "l")
        case .uint64: UInt8(ascii: "L")
        case .float: UInt8(ascii: "f")
        case .double: UInt8(ascii: "d")
        case .decimal: UInt8(ascii: "D")
        case .longString: UInt8(ascii: "S")
        case .bytes: UInt8(ascii: "x")
        case .array: UInt8(ascii: "A")
        case .timestamp: UInt8(ascii: "T")
        case .table: UInt8(ascii: "F")
        case .void: UInt8(ascii: "V")
        }
    }
}

extension WireReader {
    /// A field table: 32-bit byte length, then (shortstr name, tagged value) pairs.
    mutating func readFieldTable(depth: Int = 0) throws(AMQPError) -> FieldTable {
        let length = Int(try self.readInteger(UInt32.self, "field table length"))
        if length == 0 { return FieldTable() }
        guard depth < FieldTable.maxNestingDepth else {
            throw .syntaxError("field tables and arrays nested deeper than \(FieldTable.maxNestingDepth)")
        }
        var inner = try self.subReader(count: length, "field table")
        var entries: [FieldTable.Entry] = []
        while !inner.isAtEnd {
            let key = try inner.readShortString()
            let value = try inner.readFieldValue(depth: depth + 1)
            entries.append(FieldTable.Entry(key: key, value: value))
        }
        return FieldTable(entries)
    }

    /// A field array: 32-bit byte length, then tagged values.
    mutating func readFieldArray(depth: Int) throws(AMQPError) -> [FieldValue] {
        let length = Int(try self.readInteger(UInt32.self, "field array length"))
        if length == 0 { return [] }
        guard depth < FieldTable.maxNestingDepth else {
            throw .syntaxError("field tables and arrays nested deeper than \(FieldTable.maxNestingDepth)")
        }
        var inner = try self.subReader(count: length, "field array")
        var values: [FieldValue] = []
        while !inner.isAtEnd {
            values.append(try inner.readFieldValue(depth: depth + 1))
        }
        return values
    }

    /// A type tag and its value. `depth` counts the enclosing tables and arrays.
    mutating func readFieldValue(depth: Int) throws(AMQPError) -> FieldValue {
        let tag = try self.readInteger(UInt8.self, "field type tag")
        switch tag {
        case UInt8(ascii: "S"): return .longString(try self.readLongString())
        case UInt8(ascii: "I"): return .int32(Int32(bitPattern: try self.readUInt32()))
        case UInt8(ascii: "t"): return .bool(try self.readUInt8() != 0)
        case UInt8(ascii: "F"): return .table(try self.readFieldTable(depth: depth))
        case UInt8(ascii: "l"): return .int64(Int64(bitPattern: try self.readUInt64()))
        case UInt8(ascii: "T"): return .timestamp(try self.readUInt64())
        case UInt8(ascii: "A"): return .array(try self.readFieldArray(depth: depth))
        case UInt8(ascii: "b"): return .int8(Int8(bitPattern: try self.readUInt8()))
        case UInt8(ascii: "B"): return .uint8(try self.readUInt8())
        case UInt8(ascii: "s"): return .int16(Int16(bitPattern: try self.readUInt16()))
        case UInt8(ascii: "u"): return .uint16(try self.readUInt16())
        case UInt8(ascii: "i"): return .uint32(try self.readUInt32())
        case UInt8(ascii: "L"): return .uint64(try self.readUInt64())
        case UInt8(ascii: "f"): return .float(Float(bitPattern: try self.readUInt32()))
        case UInt8(ascii: "d"): return .double(Double(bitPattern: try self.readUInt64()))
        case UInt8(ascii: "D"):
            let scale = try self.readUInt8()
            return .decimal(scale: scale, value: try self.readUInt32())
        case UInt8(ascii: "x"): return .bytes(try self.readLongString())
        case UInt8(ascii: "V"): return .void
        default:
            throw .syntaxError("unknown field table type tag \(tag) ('\(Unicode.Scalar(tag))')")
        }
    }
}

extension ByteBuffer {
    /// Reads a field table.
    /// - Throws: 501 FRAME_ERROR when the readable bytes end before the table does (the reader index is
    ///   then unchanged); 502 SYNTAX_ERROR for an unknown type tag or too deep nesting.
    public mutating func readFieldTable() throws(AMQPError) -> FieldTable {
        try self.withWireReader { (reader: inout WireReader) throws(AMQPError) in try reader.readFieldTable() }
    }

    /// Reads one tagged field value (tag octet, then the value); errors as `readFieldTable()`.
    public mutating func readFieldValue() throws(AMQPError) -> FieldValue {
        try self.withWireReader { (reader: inout WireReader) throws(AMQPError) in try reader.readFieldValue(depth: 0) }
    }

    /// Writes a field table: its byte length (back-patched), then the entries in order.
    @discardableResult
    public mutating func writeFieldTable(_ table: FieldTable) -> Int {
        let lengthIndex = self.writerIndex
        self.writeInteger(UInt32(0))
        for entry in table.entries {
            self.writeShortString(entry.key)
            self.writeFieldValue(entry.value)
        }
        let length = self.writerIndex - lengthIndex - 4
        precondition(length <= Int(UInt32.max), "field table longer than 2^32-1 bytes")
        self.setInteger(UInt32(truncatingIfNeeded: length), at: lengthIndex)
        return length + 4
    }

    /// Writes a type tag and the value.
    @discardableResult
    public mutating func writeFieldValue(_ value: FieldValue) -> Int {
        let start = self.writerIndex
        self.storage.append(value.typeTag)
        switch value {
        case .bool(let v): self.storage.append(v ? 1 : 0)
        case .int8(let v): self.storage.append(UInt8(bitPattern: v))
        case .uint8(let v): self.storage.append(v)
        case .int16(let v): self.writeInteger(v)
        case .uint16(let v): self.writeInteger(v)
        case .int32(let v): self.writeInteger(v)
        case .uint32(let v): self.writeInteger(v)
        case .int64(let v): self.writeInteger(v)
        case .uint64(let v): self.writeInteger(v)
        case .float(let v): self.writeInteger(v.bitPattern)
        case .double(let v): self.writeInteger(v.bitPattern)
        case .decimal(let scale, let v):
            self.storage.append(scale)
            self.writeInteger(v)
        case .longString(let bytes), .bytes(let bytes): self.writeLongString(bytes)
        case .timestamp(let v): self.writeInteger(v)
        case .table(let table): self.writeFieldTable(table)
        case .array(let values):
            let lengthIndex = self.writerIndex
            self.writeInteger(UInt32(0))
            for element in values { self.writeFieldValue(element) }
            let length = self.writerIndex - lengthIndex - 4
            precondition(length <= Int(UInt32.max), "field array longer than 2^32-1 bytes")
            self.setInteger(UInt32(truncatingIfNeeded: length), at: lengthIndex)
        case .void: break
        }
        return self.writerIndex - start
    }
}
