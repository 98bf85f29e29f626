import AOPWire

/// libFuzzer entry point: the input is a byte stream of frames, decoded with frame-max 131072.
///
/// Invariants checked besides "no crash":
/// - `nil` ("need more") consumes nothing and only happens when fewer bytes than the frame's header
///   announces are readable;
/// - a decoded frame consumes exactly its 8 + size bytes;
/// - the same stream cut one byte short of a decoded frame's end gives `nil`, never a frame or an error
///   (no partial frame is ever consumed or judged);
/// - decode → encode → decode → encode gives the same bytes twice;
/// - a decoded frame re-encodes to a frame that decodes to the same frame (when two decodes of the input
///   are equal: a NaN in a field table is not equal to itself) — unless a shortstr was not valid UTF-8,
///   which is decoded with U+FFFD repairs (documented in `WireReader.readString`) and may then be truncated
///   to 255 bytes when encoded; the frame must then show a U+FFFD.
/// The re-encoded frame may be shorter than the input: the decoder normalizes by design (properties of a
/// non-basic class header are skipped, property continuation words and unused bits are ignored).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var buffer = ByteBuffer(bytes: bytes)
    var decoder = FrameDecoder(maxFrameSize: 131_072)
    while true {
        let start = buffer.readerIndex
        let frame: Frame?
        do {
            frame = try decoder.next(from: &buffer)
        } catch {
            return 0  // a hard error: the connection would be closed here
        }
        guard let frame else {
            precondition(buffer.readerIndex == start, "nil result moved the reader index")
            let available = bytes.count - start
            if available >= 7 {
                let payload = Int(bytes[start + 3]) << 24 | Int(bytes[start + 4]) << 16
                    | Int(bytes[start + 5]) << 8 | Int(bytes[start + 6])
                precondition(available < payload + 8, "nil result with the whole frame readable")
            }
            return 0
        }
        let consumed = buffer.readerIndex - start
        let payload = Int(bytes[start + 3]) << 24 | Int(bytes[start + 4]) << 16
            | Int(bytes[start + 5]) << 8 | Int(bytes[start + 6])
        precondition(consumed == payload + 8, "frame consumed \(consumed) bytes, header says \(payload + 8)")

        // The same frame one byte short: need more, nothing consumed.
        var short = ByteBuffer(bytes: bytes[start..<(start + consumed - 1)])
        var shortDecoder = FrameDecoder(maxFrameSize: 131_072)
        do {
            let partial = try shortDecoder.next(from: &short)
            precondition(partial == nil, "a frame decoded from a truncated stream")
            precondition(short.readerIndex == 0, "truncated stream: reader index moved")
        } catch {
            preconditionFailure("truncated stream threw \(error) where the whole frame decodes")
        }

        var again = ByteBuffer(bytes: bytes[start..<(start + consumed)])
        var againDecoder = FrameDecoder(maxFrameSize: 131_072)
        let comparable = (try? againDecoder.next(from: &again)) == frame
        checkRoundTrip(frame, comparable: comparable)
    }
}

/// Re-encodes `frame`, decodes it again and checks both agree.
/// `comparable`: the frame equals an independent decode of the same bytes (no NaN inside).
func checkRoundTrip(_ frame: Frame, comparable: Bool) {
    var encoded = ByteBuffer()
    encoded.writeFrame(frame)
    var decoder = FrameDecoder(maxFrameSize: 131_072)
    var copy = encoded
    let decoded: Frame?
    do {
        decoded = try decoder.next(from: &copy)
    } catch {
        preconditionFailure("re-encoded frame does not decode: \(error)")
    }
    guard let decoded else { preconditionFailure("re-encoded frame is incomplete") }
    precondition(copy.readableBytes == 0, "re-encoded frame left \(copy.readableBytes) bytes")
    var reencoded = ByteBuffer()
    reencoded.writeFrame(decoded)
    precondition(reencoded.storage == encoded.storage, "decode → encode is not stable")
    if comparable && decoded != frame {
        precondition(describe(frame).unicodeScalars.contains("\u{FFFD}"), "frame does not round-trip: \(describe(frame))")
    }
}

/// The frame with every field shown (a header's properties live in a box that does not print them).
func describe(_ frame: Frame) -> String {
    if case .header(_, let header) = frame { return "\(frame) \(header.properties)" }
    return String(describing: frame)
}
