/// A basic.publish read whole by `FrameDecoder.scanPublish`: its method, content header and body.
public struct ScannedPublish: Sendable {
    public var channel: UInt16
    public var publish: BasicPublish
    public var properties: BasicProperties
    public var body: [UInt8]
    /// Bytes of the frames it was read from (method, header and body frames, frame ends included).
    public var byteCount: Int
}

extension FrameDecoder {
    /// The channel of the basic.publish method frame at the buffer's reader index, if one starts there
    /// (its header may be incomplete); nil for any other frame.
    @inlinable
    public static func publishChannel(in buffer: ByteBuffer) -> UInt16? {
        let start = buffer.readerIndex
        guard buffer.storage.count - start >= 11 else { return nil }
        return buffer.storage.withUnsafeBytes { raw -> UInt16? in
            // type 1 (method), then class 60 / method 40 right after the 7-byte frame header.
            guard raw[start] == 1,
                  UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: start + 7, as: UInt32.self)) == 0x003C_0028
            else { return nil }
            return UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: start + 1, as: UInt16.self))
        }
    }

    /// Reads a whole publish — basic.publish method frame, content header frame, and a body in one body
    /// frame (none for an empty body) — in one pass from the buffer's readable bytes, without moving the
    /// reader index (the caller moves it by `byteCount` once it takes the publish).
    ///
    /// The publish fast path: nil unless all of it is present and valid, on one channel, with the body
    /// in a single frame. Anything else (incomplete frames, frames over frame-max, a bad frame end, a
    /// header for another class or with a weight, a body over `maxBodySize`, a body split over several
    /// frames, undecodable arguments or properties) is left to `next(from:)` and `CommandAssembler`,
    /// which decode it frame by frame and report the errors exactly as before. So whatever this returns,
    /// the frame-by-frame path would have assembled the same publish from the same bytes.
    public func scanPublish(_ buffer: ByteBuffer, maxBodySize: UInt64) -> ScannedPublish? {
        var scanned: ScannedPublish?
        let byteCount = self.scanPublish(buffer, maxBodySize: maxBodySize) { channel, publish, properties, body in
            scanned = ScannedPublish(channel: channel, publish: publish, properties: properties, body: body, byteCount: 0)
        }
        guard let byteCount else { return nil }
        scanned?.byteCount = byteCount
        return scanned
    }

    /// `scanPublish(_:maxBodySize:)` handing the publish to `take` (called once, before returning) instead
    /// of returning it: the properties are moved once, into whatever `take` builds, rather than copied out
    /// through a result (a value of some 200 bytes, copied several times per publish). Returns the byte
    /// count of the frames read, or nil (`take` not called) when the fast path does not apply.
    public func scanPublish(
        _ buffer: ByteBuffer, maxBodySize: UInt64,
        _ take: (_ channel: UInt16, _ publish: BasicPublish, _ properties: consuming BasicProperties,
                 _ body: consuming [UInt8]) -> Void
    ) -> Int? {
        let maxFrameSize = self.maxFrameSize
        let start = buffer.readerIndex
        let end = buffer.storage.count
        return buffer.storage.withUnsafeBytes { raw -> Int? in
            do throws(AMQPError) {
                return try Self.scanPublish(raw, start: start, end: end, maxFrameSize: maxFrameSize,
                                            maxBodySize: maxBodySize, take)
            } catch {
                return nil
            }
        }
    }

    /// One frame's payload range, when the whole frame of `type` on `channel` is within `end` and valid.
    @inline(__always)
    private static func frame(
        _ raw: UnsafeRawBufferPointer, at start: Int, end: Int, type: UInt8, channel: UInt16, maxFrameSize: UInt32
    ) -> Range<Int>? {
        guard end - start >= Frame.overhead, raw[start] == type,
              UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: start + 1, as: UInt16.self)) == channel
        else { return nil }
        let size = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: start + 3, as: UInt32.self))
        if maxFrameSize != 0, UInt64(size) + UInt64(Frame.overhead) > UInt64(maxFrameSize) { return nil }
        let payloadStart = start + 7
        guard end - payloadStart > Int(size) else { return nil }  // payload and the frame-end octet
        let payloadEnd = payloadStart + Int(size)
        guard raw[payloadEnd] == Frame.end else { return nil }
        return payloadStart..<payloadEnd
    }

    private static func scanPublish(
        _ raw: UnsafeRawBufferPointer, start: Int, end: Int, maxFrameSize: UInt32, maxBodySize: UInt64,
        _ take: (UInt16, BasicPublish, consuming BasicProperties, consuming [UInt8]) -> Void
    ) throws(AMQPError) -> Int? {
        guard end - start >= 7 else { return nil }
        let channel = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: start + 1, as: UInt16.self))
        guard let method = Self.frame(raw, at: start, end: end, type: Frame.FrameType.method.rawValue,
                                      channel: channel, maxFrameSize: maxFrameSize)
        else { return nil }
        var reader = WireReader(bytes: raw, index: method.lowerBound, end: method.upperBound)
        guard try reader.readUInt16() == BasicPublish.classID, try reader.readUInt16() == BasicPublish.methodID else {
            return nil
        }
        let publish = try BasicPublish.decodeArguments(from: &reader)
        guard reader.isAtEnd else { return nil }

        let headerStart = method.upperBound + 1
        guard let header = Self.frame(raw, at: headerStart, end: end, type: Frame.FrameType.header.rawValue,
                                      channel: channel, maxFrameSize: maxFrameSize)
        else { return nil }
        reader = WireReader(bytes: raw, index: header.lowerBound, end: header.upperBound)
        guard try reader.readUInt16() == BasicPublish.classID, try reader.readUInt16() == 0 else { return nil }
        let bodySize = try reader.readUInt64()
        guard bodySize <= maxBodySize else { return nil }
        let emptyProperties = reader.remaining == 2
            && reader.bytes.loadUnaligned(fromByteOffset: reader.index, as: UInt16.self) == 0
        let properties = emptyProperties ? BasicProperties() : try BasicProperties.decode(from: &reader)
        var next = header.upperBound + 1
        let body: [UInt8]
        if bodySize == 0 {
            body = []
        } else {
            guard let bodyFrame = Self.frame(raw, at: next, end: end, type: Frame.FrameType.body.rawValue,
                                             channel: channel, maxFrameSize: maxFrameSize),
                  UInt64(bodyFrame.count) == bodySize
            else { return nil }
            body = Array(UnsafeRawBufferPointer(rebasing: raw[bodyFrame]))
            next = bodyFrame.upperBound + 1
        }
        take(channel, publish, properties, body)
        return next - start
    }
}
