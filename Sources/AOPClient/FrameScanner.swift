/// Finds complete frames, and complete content messages, in received bytes without copying them.
///
/// Pure: it reads a buffer and returns offsets. A content method (`basic.deliver`, `basic.return`,
/// `basic.get-ok`) is returned only together with its header and all its body frames, so the caller can
/// hand out the message as ranges of one buffer; until all of it arrived the scanner answers `.needMore`
/// and consumes nothing. The server is expected to send a message's frames back to back on its channel
/// (RabbitMQ and aop do); anything else is a protocol violation.
struct FrameScanner {
    /// The negotiated frame-max (0 = no limit).
    var maxFrameSize: UInt32

    /// Scans the unit at `offset` and, unless it is `.needMore`, moves `offset` past it.
    func next(in raw: UnsafeRawBufferPointer, offset: inout Int) throws(AMQPClientError) -> InboundUnit {
        guard let first = try self.frame(in: raw, at: offset) else { return .needMore }
        switch first.type {
        case 8:
            offset = first.end
            return .heartbeat
        case 1:
            guard first.payload.count >= 4 else { throw .protocolViolation("method frame of \(first.payload.count) bytes") }
            let classID = Self.uint16(raw, first.payload.lowerBound)
            let methodID = Self.uint16(raw, first.payload.lowerBound + 2)
            guard classID == 60, methodID == 60 || methodID == 50 || methodID == 71 else {
                offset = first.end
                return .method(channel: first.channel, classID: classID, methodID: methodID, payload: first.payload)
            }
            guard let span = try self.content(in: raw, method: first, methodID: methodID) else { return .needMore }
            offset = span.end
            return .content(span.span)
        default:
            throw .protocolViolation("unexpected frame type \(first.type) on channel \(first.channel)")
        }
    }

    private struct RawFrame {
        var type: UInt8
        var channel: UInt16
        var payload: Range<Int>
        var end: Int
    }

    private func frame(in raw: UnsafeRawBufferPointer, at offset: Int) throws(AMQPClientError) -> RawFrame? {
        guard raw.count - offset >= 7 else { return nil }
        let type = raw[offset]
        let channel = Self.uint16(raw, offset + 1)
        let size = Int(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 3, as: UInt32.self)))
        if self.maxFrameSize != 0, size + 8 > Int(self.maxFrameSize) {
            throw .protocolViolation("frame of \(size + 8) bytes exceeds frame-max \(self.maxFrameSize)")
        }
        guard raw.count - offset >= size + 8 else { return nil }
        guard raw[offset + 7 + size] == 0xCE else {
            throw .protocolViolation("bad frame-end octet \(raw[offset + 7 + size]) (type \(type), channel \(channel))")
        }
        return RawFrame(type: type, channel: channel, payload: (offset + 7)..<(offset + 7 + size), end: offset + 8 + size)
    }

    private func content(in raw: UnsafeRawBufferPointer, method: RawFrame, methodID: UInt16) throws(AMQPClientError)
        -> (span: ContentSpan, end: Int)?
    {
        guard let header = try self.frame(in: raw, at: method.end) else { return nil }
        guard header.type == 2, header.channel == method.channel, header.payload.count >= 14 else {
            throw .protocolViolation("expected a content header on channel \(method.channel) after method 60.\(methodID)")
        }
        let bodySize = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: header.payload.lowerBound + 4, as: UInt64.self))
        var end = header.end
        var received: UInt64 = 0
        var pieces: [Range<Int>] = []
        var single: Range<Int> = end..<end
        while received < bodySize {
            guard let body = try self.frame(in: raw, at: end) else { return nil }
            guard body.type == 3, body.channel == method.channel else {
                throw .protocolViolation("expected a content body on channel \(method.channel)")
            }
            received += UInt64(body.payload.count)
            guard received <= bodySize else { throw .protocolViolation("content body longer than its header declared") }
            if received == UInt64(body.payload.count), received == bodySize {
                single = body.payload
            } else {
                pieces.append(body.payload)
            }
            end = body.end
        }
        let location: BodyLocation = pieces.isEmpty ? .contiguous(single) : .pieces(pieces)
        return (ContentSpan(channel: method.channel, methodID: methodID, method: method.payload, header: header.payload,
                            body: location), end)
    }

    @inline(__always)
    static func uint16(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    static func uint64(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
