/// Splits a byte stream into frames, one `next(from:)` call per frame.
///
/// Errors follow RabbitMQ (`rabbit_reader`, `rabbit_command_assembler:analyze_frame`); every one of them is
/// a hard error (the connection is closed and the stream is not read further):
/// - a frame larger than `maxFrameSize` (checked as soon as its 7-byte header is in): 501 FRAME_ERROR;
/// - a frame-end octet other than 0xCE: 501 FRAME_ERROR;
/// - an unknown frame type: 501 FRAME_ERROR;
/// - a heartbeat on a channel other than 0, or with a payload: 501 FRAME_ERROR (the spec's rule;
///   RabbitMQ answers 505 UNEXPECTED_FRAME to the former);
/// - method and header payloads that do not decode: see `AMQPMethod.decode(from:)`.
///
/// Unlike RabbitMQ, which tolerates frames up to 8 bytes over frame-max, the limit is exact.
public struct FrameDecoder: Sendable {
    /// The negotiated frame-max: the largest frame, header and frame-end included. 0 means no limit.
    public var maxFrameSize: UInt32

    public init(maxFrameSize: UInt32) {
        self.maxFrameSize = maxFrameSize
    }

    /// Decodes the next frame from the readable bytes.
    /// - Returns: the frame, with the reader index moved past it; or `nil` when the frame is not complete
    ///   yet, with nothing consumed.
    public mutating func next(from buffer: inout ByteBuffer) throws(AMQPError) -> Frame? {
        let start = buffer.readerIndex
        let available = buffer.storage.count - start
        guard available >= 7 else { return nil }
        let maxFrameSize = self.maxFrameSize
        var failure: AMQPError?
        var consumed = 0
        let frame: Frame? = buffer.storage.withUnsafeBytes { raw in
            do throws(AMQPError) {
                return try Self.decode(raw, start: start, available: available, maxFrameSize: maxFrameSize, consumed: &consumed)
            } catch {
                failure = error
                return nil
            }
        }
        if let failure { throw failure }
        guard let frame else { return nil }
        buffer.readerIndex = start + consumed
        return frame
    }

    private static func decode(
        _ raw: UnsafeRawBufferPointer, start: Int, available: Int, maxFrameSize: UInt32, consumed: inout Int
    ) throws(AMQPError) -> Frame? {
        let rawType = raw[start]
        let channel = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: start + 1, as: UInt16.self))
        let size = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: start + 3, as: UInt32.self))
        if maxFrameSize != 0, UInt64(size) + UInt64(Frame.overhead) > UInt64(maxFrameSize) {
            throw .frameError("frame of \(UInt64(size) + 8) bytes (type \(rawType), channel \(channel)) exceeds frame-max \(maxFrameSize)")
        }
        let total = Int(size) + Frame.overhead
        guard available >= total else { return nil }
        let payloadStart = start + 7
        let payloadEnd = payloadStart + Int(size)
        let end = raw[payloadEnd]
        guard end == Frame.end else {
            throw .frameError("invalid frame-end octet \(end) (type \(rawType), channel \(channel))")
        }
        consumed = total
        switch rawType {
        case Frame.FrameType.method.rawValue:
            var reader = WireReader(bytes: raw, index: payloadStart, end: payloadEnd)
            return .method(channel: channel, try AMQPMethod.decodeWhole(from: &reader))
        case Frame.FrameType.header.rawValue:
            var reader = WireReader(bytes: raw, index: payloadStart, end: payloadEnd)
            return .header(channel: channel, try ContentHeader.decode(from: &reader))
        case Frame.FrameType.body.rawValue:
            return .body(channel: channel, Array(UnsafeRawBufferPointer(rebasing: raw[payloadStart..<payloadEnd])))
        case Frame.FrameType.heartbeat.rawValue:
            guard channel == 0 else { throw .frameError("heartbeat frame on channel \(channel)") }
            guard size == 0 else { throw .frameError("heartbeat frame with a payload of \(size) bytes") }
            return .heartbeat(channel: 0)
        default:
            throw .frameError("unknown frame type \(rawType) on channel \(channel)")
        }
    }
}
