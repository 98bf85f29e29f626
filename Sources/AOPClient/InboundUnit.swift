/// One unit the ``FrameScanner`` found in received bytes: a frame, or a whole content message (its method,
/// header and body frames). Ranges are offsets into the scanned buffer.
enum InboundUnit: Equatable {
    /// The buffer does not hold a complete unit yet; nothing was consumed.
    case needMore
    case heartbeat
    /// A method without content: `payload` starts with the class and method ids.
    case method(channel: UInt16, classID: UInt16, methodID: UInt16, payload: Range<Int>)
    /// A content method (`basic.deliver`, `basic.return`, `basic.get-ok`) with its header and body.
    case content(ContentSpan)
}

/// Where a content message's parts lie in the scanned buffer.
struct ContentSpan: Equatable {
    var channel: UInt16
    var methodID: UInt16
    /// The method payload (class and method ids included).
    var method: Range<Int>
    /// The header payload (class id, weight, body size, properties).
    var header: Range<Int>
    /// The body: one range when it came in one body frame (or is empty), several otherwise.
    var body: BodyLocation
}

/// The body of a content message.
enum BodyLocation: Equatable {
    case contiguous(Range<Int>)
    case pieces([Range<Int>])
}
