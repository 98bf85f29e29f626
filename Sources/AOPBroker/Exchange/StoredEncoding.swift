import AOPWire

/// The storage encoding of strings, field tables and basic properties inside message and definition
/// records. It is aop's own, self-contained format (not the wire encoding) so records stay readable
/// whatever the wire layer changes; every length is explicit and every read is bounds-checked.
///
/// Layout: strings are `u32 length + UTF-8`; a field value is a one-byte tag (the AMQP tag letters)
/// followed by its payload; a table is `u32 count` then `(string key, value)` pairs.
extension ByteBuffer {
    mutating func writeStoredString(_ s: String) {
        let written: Void? = s.utf8.withContiguousStorageIfAvailable { utf8 in
            self.writeInteger(UInt32(utf8.count))
            self.writeBytes(UnsafeRawBufferPointer(utf8))
        }
        if written == nil {   // a bridged or lazy string: copy it out first
            let bytes = Array(s.utf8)
            self.writeInteger(UInt32(bytes.count))
            self.writeBytes(bytes)
        }
    }

    mutating func readStoredString() -> String? {
        guard let n = self.readInteger(as: UInt32.self) else { return nil }
        return self.readString(length: Int(n))
    }

    mutating func writeStoredBytes(_ b: [UInt8]) {
        self.writeInteger(UInt32(b.count))
        self.writeBytes(b)
    }

    mutating func readStoredBytes() -> [UInt8]? {
        guard let n = self.readInteger(as: UInt32.self) else { return nil }
        return self.readBytes(length: Int(n))
    }

    mutating func writeStoredTable(_ table: FieldTable) {
        self.writeInteger(UInt32(table.count))
        for entry in table.entries {
            self.writeStoredString(entry.key)
            self.writeStoredValue(entry.value)
        }
    }

    mutating func readStoredTable() -> FieldTable? {
        guard let n = self.readInteger(as: UInt32.self), Int(n) <= self.readableBytes else { return nil }
        var entries: [FieldTable.Entry] = []
        entries.reserveCapacity(Int(n))
        for _ in 0..<n {
            guard let key = self.readStoredString(), let value = self.readStoredValue() else { return nil }
            entries.append(.init(key: key, value: value))
        }
        return FieldTable(entries)
    }

    mutating func writeStoredValue(_ value: FieldValue) {
        switch value {
        case .bool(let v): self.writeTag("t"); self.writeInteger(UInt8(v ? 1 : 0))
        case .int8(let v): self.writeTag("b"); self.writeInteger(v)
        case .uint8(let v): self.writeTag("B"); self.writeInteger(v)
        case .int16(let v): self.writeTag("s"); self.writeInteger(v)
        case .uint16(let v): self.writeTag("u"); self.writeInteger(v)
        case .int32(let v): self.writeTag("I"); self.writeInteger(v)
        case .uint32(let v): self.writeTag("i"); self.writeInteger(v)
        case .int64(let v): self.writeTag("l"); self.writeInteger(v)
        case .uint64(let v): self.writeTag("L"); self.writeInteger(v)
        case .float(let v): self.writeTag("f"); self.writeInteger(v.bitPattern)
        case .double(let v): self.writeTag("d"); self.writeInteger(v.bitPattern)
        case .decimal(let scale, let v): self.writeTag("D"); self.writeInteger(scale); self.writeInteger(v)
        case .longString(let b): self.writeTag("S"); self.writeStoredBytes(b)
        case .bytes(let b): self.writeTag("x"); self.writeStoredBytes(b)
        case .array(let items):
            self.writeTag("A")
            self.writeInteger(UInt32(items.count))
            for item in items { self.writeStoredValue(item) }
        case .timestamp(let v): self.writeTag("T"); self.writeInteger(v)
        case .table(let t): self.writeTag("F"); self.writeStoredTable(t)
        case .void: self.writeTag("V")
        }
    }

    mutating func readStoredValue() -> FieldValue? {
        guard let tag = self.readInteger(as: UInt8.self) else { return nil }
        switch Unicode.Scalar(tag) {
        case "t": return self.readInteger(as: UInt8.self).map { .bool($0 != 0) }
        case "b": return self.readInteger(as: Int8.self).map { .int8($0) }
        case "B": return self.readInteger(as: UInt8.self).map { .uint8($0) }
        case "s": return self.readInteger(as: Int16.self).map { .int16($0) }
        case "u": return self.readInteger(as: UInt16.self).map { .uint16($0) }
        case "I": return self.readInteger(as: Int32.self).map { .int32($0) }
        case "i": return self.readInteger(as: UInt32.self).map { .uint32($0) }
        case "l": return self.readInteger(as: Int64.self).map { .int64($0) }
        case "L": return self.readInteger(as: UInt64.self).map { .uint64($0) }
        case "f": return self.readInteger(as: UInt32.self).map { .float(Float(bitPattern: $0)) }
        case "d": return self.readInteger(as: UInt64.self).map { .double(Double(bitPattern: $0)) }
        case "D":
            guard let scale = self.readInteger(as: UInt8.self), let v = self.readInteger(as: UInt32.self) else {
                return nil
            }
            return .decimal(scale: scale, value: v)
        case "S": return self.readStoredBytes().map { .longString($0) }
        case "x": return self.readStoredBytes().map { .bytes($0) }
        case "A":
            guard let n = self.readInteger(as: UInt32.self), Int(n) <= self.readableBytes else { return nil }
            var items: [FieldValue] = []
            items.reserveCapacity(Int(n))
            for _ in 0..<n {
                guard let item = self.readStoredValue() else { return nil }
                items.append(item)
            }
            return .array(items)
        case "T": return self.readInteger(as: UInt64.self).map { .timestamp($0) }
        case "F": return self.readStoredTable().map { .table($0) }
        case "V": return .void
        default: return nil
        }
    }

    private mutating func writeTag(_ c: Unicode.Scalar) { self.writeInteger(UInt8(c.value)) }
}
