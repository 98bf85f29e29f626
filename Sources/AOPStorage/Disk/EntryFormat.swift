/// The on-disk framing of one entry in a segment file (little-endian):
///
///     length u32 | crc32c u32 | position u64 | batchIndex u32 | payload (length bytes)
///
/// `crc32c` covers length, position, batchIndex and the payload. `batchIndex` is the entry's index
/// within the append batch that wrote it, so `position - batchIndex` is the batch's first position;
/// recovery uses it to tell a torn tail (damage inside the last, possibly unsynced batch) from
/// corruption of data that was durable.
enum EntryFormat {
    static let headerSize = 20

    struct Header: Equatable {
        var length: UInt32
        var position: UInt64
        var batchIndex: UInt32
        var batchStart: UInt64 { self.position - UInt64(self.batchIndex) }
    }

    /// Appends one framed entry to `buffer`.
    static func append(position: UInt64, batchIndex: UInt32, payload: [UInt8], to buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.appendLittleEndian(UInt32(payload.count))
        buffer.appendLittleEndian(UInt32(0))
        buffer.appendLittleEndian(position)
        buffer.appendLittleEndian(batchIndex)
        buffer.append(contentsOf: payload)
        let crc = buffer.withUnsafeBytes { raw in
            checksum(raw, headerAt: start, payloadLength: payload.count)
        }
        buffer.storeLittleEndian(crc, at: start + 4)
    }

    private static func checksum(_ raw: UnsafeRawBufferPointer, headerAt start: Int, payloadLength: Int) -> UInt32 {
        var crc = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[start..<(start + 4)]))
        crc = CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: raw[(start + 8)..<(start + headerSize + payloadLength)]))
        return crc
    }

    enum Parsed: Equatable {
        /// A valid entry; the payload is `bytes[payloadStart..<payloadStart+length]`.
        case entry(Header, payloadStart: Int)
        /// Fewer bytes than the entry needs (or than a header).
        case incomplete(needed: Int)
        /// Bad checksum or impossible length.
        case bad
    }

    /// Parses the entry at `offset` in `bytes`. `limit` is the largest payload believed. `verify: false`
    /// skips the checksum, for bytes that never left memory (the topic's own tail cache).
    static func parse(_ bytes: [UInt8], at offset: Int, maxLength: Int, verify: Bool = true) -> Parsed {
        guard bytes.count - offset >= headerSize else { return .incomplete(needed: headerSize) }
        let length = bytes.loadLittleEndian(UInt32.self, at: offset)
        guard Int(length) <= maxLength else { return .bad }
        let total = headerSize + Int(length)
        guard bytes.count - offset >= total else { return .incomplete(needed: total) }
        if verify {
            let stored = bytes.loadLittleEndian(UInt32.self, at: offset + 4)
            let actual = bytes.withUnsafeBytes { checksum($0, headerAt: offset, payloadLength: Int(length)) }
            guard stored == actual else { return .bad }
        }
        let header = Header(
            length: length,
            position: bytes.loadLittleEndian(UInt64.self, at: offset + 8),
            batchIndex: bytes.loadLittleEndian(UInt32.self, at: offset + 16)
        )
        guard UInt64(header.batchIndex) <= header.position else { return .bad }
        return .entry(header, payloadStart: offset + headerSize)
    }

    /// The first offset after `offset` holding a valid entry with a position in `positions`.
    static func resynchronize(_ bytes: [UInt8], after offset: Int, positions: Range<UInt64>, maxLength: Int,
                              where accept: (Header) -> Bool = { _ in true }) -> (offset: Int, header: Header)?
    {
        var candidate = offset + 1
        while bytes.count - candidate >= headerSize {
            let position = bytes.loadLittleEndian(UInt64.self, at: candidate + 8)
            if positions.contains(position),
               case .entry(let header, _) = parse(bytes, at: candidate, maxLength: maxLength), accept(header) {
                return (candidate, header)
            }
            candidate += 1
        }
        return nil
    }
}
