/// AMQP string and table helpers on `ByteBuffer`, in NIO's verbs.
///
/// `read…` returns `nil` and leaves the reader index unchanged when too few bytes are readable.
extension ByteBuffer {
    /// The most bytes a shortstr can hold.
    public static let maxShortStringLength = 255

    /// Reads a shortstr (one length octet, then UTF-8 bytes).
    public mutating func readShortString() -> String? {
        guard let count = self.getInteger(at: self.readerIndex, as: UInt8.self),
              Int(count) + 1 <= self.readableBytes else { return nil }
        self.readerIndex += 1
        return self.readString(length: Int(count))
    }

    /// Writes a shortstr.
    ///
    /// A string longer than 255 UTF-8 bytes is **truncated** to the longest prefix of at most 255 bytes
    /// that ends on a Unicode scalar boundary, so a frame is never corrupt. (RabbitMQ truncates reply
    /// texts the same way; names and keys are validated by the broker before they reach the encoder.)
    /// - Returns: the number of bytes written.
    @discardableResult
    public mutating func writeShortString(_ string: String) -> Int {
        let utf8 = string.utf8
        if utf8.count <= Self.maxShortStringLength {
            self.storage.append(UInt8(truncatingIfNeeded: utf8.count))
            self.storage.append(contentsOf: utf8)
            return utf8.count + 1
        }
        let prefix = Array(utf8.prefix(Self.maxShortStringLength + 1))
        var count = Self.maxShortStringLength
        while count > 0, prefix[count] & 0xC0 == 0x80 { count -= 1 }  // don't split a scalar
        self.storage.append(UInt8(count))
        self.storage.append(contentsOf: prefix[0..<count])
        return count + 1
    }

    /// Reads a longstr (32-bit length, then bytes).
    public mutating func readLongString() -> [UInt8]? {
        guard let count = self.getInteger(at: self.readerIndex, as: UInt32.self),
              Int(count) + 4 <= self.readableBytes else { return nil }
        self.readerIndex += 4
        return self.readBytes(length: Int(count))
    }

    /// Reads a longstr as UTF-8 text.
    public mutating func readLongStringAsString() -> String? {
        guard let count = self.getInteger(at: self.readerIndex, as: UInt32.self),
              Int(count) + 4 <= self.readableBytes else { return nil }
        self.readerIndex += 4
        return self.readString(length: Int(count))
    }

    /// Writes a longstr. - Precondition: fewer than 2^32 bytes.
    @discardableResult
    public mutating func writeLongString(_ bytes: [UInt8]) -> Int {
        precondition(bytes.count <= Int(UInt32.max), "longstr longer than 2^32-1 bytes")
        self.writeInteger(UInt32(truncatingIfNeeded: bytes.count))
        self.storage.append(contentsOf: bytes)
        return bytes.count + 4
    }

    /// Writes a longstr from UTF-8 text.
    @discardableResult
    public mutating func writeLongString(_ string: String) -> Int {
        let utf8 = string.utf8
        precondition(utf8.count <= Int(UInt32.max), "longstr longer than 2^32-1 bytes")
        self.writeInteger(UInt32(truncatingIfNeeded: utf8.count))
        self.storage.append(contentsOf: utf8)
        return utf8.count + 4
    }
}
