/// A bounds-checked big-endian cursor over raw bytes, used by every decoder in this module.
///
/// It reads straight from the receive buffer's storage (no per-frame copy). It is only valid inside
/// the `withUnsafeBytes` call that produced `bytes`. Every overrun throws 501 FRAME_ERROR, which is
/// what RabbitMQ answers when it `cannot decode` a method's arguments.
struct WireReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var index: Int
    let end: Int

    init(bytes: UnsafeRawBufferPointer, index: Int, end: Int) {
        precondition(index >= 0 && index <= end && end <= bytes.count, "reader range out of bounds")
        self.bytes = bytes
        self.index = index
        self.end = end
    }

    var remaining: Int { self.end - self.index }
    var isAtEnd: Bool { self.index == self.end }

    static func truncated(_ what: StaticString) -> AMQPError {
        .frameError("cannot decode: \(what) runs past the end of its frame or table")
    }

    @inline(__always)
    mutating func readInteger<T: FixedWidthInteger>(_: T.Type, _ what: StaticString = "integer") throws(AMQPError) -> T {
        let size = MemoryLayout<T>.size
        guard size <= self.end - self.index else { throw Self.truncated(what) }
        let value = T(bigEndian: self.bytes.loadUnaligned(fromByteOffset: self.index, as: T.self))
        self.index += size
        return value
    }

    @inline(__always) mutating func readUInt8() throws(AMQPError) -> UInt8 { try self.readInteger(UInt8.self) }
    @inline(__always) mutating func readUInt16() throws(AMQPError) -> UInt16 { try self.readInteger(UInt16.self) }
    @inline(__always) mutating func readUInt32() throws(AMQPError) -> UInt32 { try self.readInteger(UInt32.self) }
    @inline(__always) mutating func readUInt64() throws(AMQPError) -> UInt64 { try self.readInteger(UInt64.self) }

    /// Moves past `count` bytes and returns their start offset.
    @inline(__always)
    mutating func skip(_ count: Int, _ what: StaticString) throws(AMQPError) -> Int {
        guard count >= 0, count <= self.end - self.index else { throw Self.truncated(what) }
        let start = self.index
        self.index += count
        return start
    }

    /// `count` bytes decoded as UTF-8 (invalid sequences are repaired with U+FFFD).
    @inline(__always)
    mutating func readString(count: Int, _ what: StaticString) throws(AMQPError) -> String {
        let start = try self.skip(count, what)
        guard count > 0, let base = self.bytes.baseAddress else { return "" }
        let bytes = UnsafeBufferPointer(start: base.advanced(by: start).assumingMemoryBound(to: UInt8.self), count: count)
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func readBytes(count: Int, _ what: StaticString) throws(AMQPError) -> [UInt8] {
        let start = try self.skip(count, what)
        guard count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(rebasing: self.bytes[start..<(start + count)]))
    }

    /// shortstr: one length octet, then that many bytes.
    mutating func readShortString() throws(AMQPError) -> String {
        let count = Int(try self.readInteger(UInt8.self, "shortstr length"))
        return try self.readString(count: count, "shortstr")
    }

    /// longstr: a 32-bit length, then that many bytes.
    mutating func readLongString() throws(AMQPError) -> [UInt8] {
        let count = Int(try self.readInteger(UInt32.self, "longstr length"))
        return try self.readBytes(count: count, "longstr")
    }

    /// A reader over the next `count` bytes; this reader moves past them.
    mutating func subReader(count: Int, _ what: StaticString) throws(AMQPError) -> WireReader {
        let start = try self.skip(count, what)
        return WireReader(bytes: self.bytes, index: start, end: start + count)
    }
}

extension ByteBuffer {
    /// Runs `body` with a `WireReader` over the readable bytes and moves the reader index past what it read.
    /// On a throw the reader index is unchanged.
    mutating func withWireReader<T>(_ body: (inout WireReader) throws(AMQPError) -> T) throws(AMQPError) -> T {
        let start = self.readerIndex
        let end = self.storage.count
        let result: Result<(T, Int), AMQPError> = self.storage.withUnsafeBytes { raw in
            var reader = WireReader(bytes: raw, index: start, end: end)
            do throws(AMQPError) {
                let value = try body(&reader)
                return .success((value, reader.index))
            } catch {
                return .failure(error)
            }
        }
        let (value, index) = try result.get()
        self.readerIndex = index
        return value
    }
}
