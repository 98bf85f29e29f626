import AOPWire

/// libFuzzer entry point: the input is a field table on the wire (32-bit length, then entries).
///
/// Invariants checked besides "no crash":
/// - a failed decode leaves the reader index where it was (documented by `readFieldTable()`);
/// - decode → encode → decode → encode gives the same bytes twice;
/// - a decoded table re-encodes to exactly as many bytes as it consumed, and decodes to the same table
///   (when two decodes of the input are equal: a NaN is not equal to itself; `table == table` would not do,
///   as arrays compare equal by identity first) — unless a key was not valid UTF-8: shortstrs are
///   decoded to `String` with U+FFFD repairs (documented in `WireReader.readString`), which changes the
///   key and its length. Such a difference must then show a U+FFFD scalar in the table (searched among
///   Unicode scalars, not Characters: a U+FFFD followed by a combining mark is one grapheme cluster that
///   `String.contains("\u{FFFD}")` does not find).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    var buffer = input
    let table: FieldTable
    do {
        table = try buffer.readFieldTable()
    } catch {
        precondition(buffer.readerIndex == input.readerIndex, "failed readFieldTable moved the reader index")
        return 0
    }
    let consumed = buffer.readerIndex - input.readerIndex

    var encoded = ByteBuffer()
    let written = encoded.writeFieldTable(table)
    precondition(encoded.readableBytes == written, "writeFieldTable returned \(written), wrote \(encoded.readableBytes)")

    var again = encoded
    let decoded: FieldTable
    do {
        decoded = try again.readFieldTable()
    } catch {
        preconditionFailure("re-encoded table does not decode: \(error)")
    }
    precondition(again.readableBytes == 0, "re-encoded table left \(again.readableBytes) bytes unread")
    var reencoded = ByteBuffer()
    reencoded.writeFieldTable(decoded)
    precondition(reencoded.storage == encoded.storage, "decode → encode is not stable")
    var input2 = input
    let comparable = (try? input2.readFieldTable()) == table
    if written != consumed || (comparable && decoded != table) {
        precondition(
            String(describing: table).unicodeScalars.contains("\u{FFFD}"),
            "table re-encoded to \(written) bytes (decoded from \(consumed)) or to another table: \(table)")
    }
    return 0
}
