/// A string compared and hashed by its UTF-8 bytes, as Erlang compares binaries.
///
/// Swift's `String` equality is Unicode canonical equivalence ("é" precomposed equals "e" + U+0301);
/// RabbitMQ compares routing keys, binding keys and header names byte for byte. Routing tables key on
/// this type so that two keys route alike exactly when RabbitMQ would route them alike.
/// It stores a `Substring`, so slicing a routing key into topic words does not copy.
struct ExactString: Hashable, Sendable {
    var value: Substring

    init(_ value: String) { self.value = value[...] }
    init(_ value: Substring) { self.value = value }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        let a = lhs.value.utf8
        let b = rhs.value.utf8
        guard a.count == b.count else { return false }
        let fast = a.withContiguousStorageIfAvailable { pa in
            b.withContiguousStorageIfAvailable { pb in pa.elementsEqual(pb) }
        }
        if let fast, let result = fast { return result }
        return a.elementsEqual(b)
    }

    func hash(into hasher: inout Hasher) {
        let utf8 = self.value.utf8
        hasher.combine(utf8.count)
        let done: Void? = utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil {
            for byte in utf8 { hasher.combine(byte) }
        }
    }

    var string: String { String(self.value) }

    /// True when the bytes start with `prefix`'s bytes.
    func hasBytePrefix(_ prefix: StaticString) -> Bool {
        let utf8 = self.value.utf8
        guard utf8.count >= prefix.utf8CodeUnitCount else { return false }
        var i = utf8.startIndex
        for k in 0..<prefix.utf8CodeUnitCount {
            if utf8[i] != prefix.utf8Start[k] { return false }
            i = utf8.index(after: i)
        }
        return true
    }

    /// Byte-wise ordering (Erlang's ordering of binaries).
    static func precedes(_ lhs: Substring, _ rhs: Substring) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}
