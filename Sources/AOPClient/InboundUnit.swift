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
