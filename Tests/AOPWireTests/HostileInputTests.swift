import AOPTestSupport
import AOPWire
import Testing

/// Mutated and random byte streams must only ever produce frames, "need more" or an `AMQPError`: never a crash
/// or a hang.
@Suite struct HostileInputTests {
    /// SplitMix64: deterministic, so a failure reproduces.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func validStream() -> [UInt8] {
        var buffer = ByteBuffer()
        for (i, method) in MethodSamples.all.enumerated() {
            if method.hasContent {
                buffer.writeMethodFrame(channel: UInt16(i), method)
                buffer.writeContent(channel: UInt16(i), properties: BasicPropertiesTests.all, body: [1, 2, 3, 4, 5], frameMax: 4096)
            } else {
                buffer.writeMethodFrame(channel: UInt16(i), method)
            }
        }
        return buffer.readableBytesArray
    }

    /// Decodes until the stream ends, needs more, or fails; returns the number of frames.
    @discardableResult
    static func drain(_ bytes: [UInt8], frameMax: UInt32) -> Int {
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = FrameDecoder(maxFrameSize: frameMax)
        var assemblers: [UInt16: CommandAssembler] = [:]
        var frames = 0
        do {
            while let frame = try decoder.next(from: &buffer) {
                frames += 1
                var assembler = assemblers[frame.channel] ?? CommandAssembler(maxBodySize: 1 << 20)
                _ = try assembler.process(frame)
                assemblers[frame.channel] = assembler
            }
        } catch {
            #expect(error.code.closesConnection)  // every wire error is a hard error
        }
        return frames
    }

    @Test func theValidStreamDecodesWhole() {
        #expect(Self.drain(Self.validStream(), frameMax: 131_072) == MethodSamples.all.count + 2 * MethodSamples.all.filter(\.hasContent).count)
    }

    @Test func mutatedStreamsNeverCrash() {
        var rng = SeededGenerator(state: 42)
        let valid = Self.validStream()
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] = UInt8.random(in: 0...255, using: &rng)
            }
            Self.drain(bytes, frameMax: 131_072)
        }
    }

    @Test func randomBytesNeverCrash() {
        var rng = SeededGenerator(state: 7)
        for _ in 0..<3000 {
            let count = Int.random(in: 0..<300, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if count > 8, Bool.random(using: &rng) {
                bytes[0] = [1, 2, 3, 8].randomElement(using: &rng)!  // valid type
                let size = UInt32(count - 8)
                bytes[3] = 0
                bytes[4] = 0
                bytes[5] = UInt8(size >> 8)
                bytes[6] = UInt8(truncatingIfNeeded: size)
                bytes[count - 1] = 0xCE
            }
            Self.drain(bytes, frameMax: 4096)
        }
    }

    @Test func randomTablePayloadsNeverCrash() {
        var rng = SeededGenerator(state: 99)
        let tags = Array("tbBsuIilLfdDSxATFVZ".utf8)
        for _ in 0..<5000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<40, using: &rng) {
                bytes.append(Bool.random(using: &rng) ? tags.randomElement(using: &rng)! : UInt8.random(in: 0...8, using: &rng))
            }
            let n = UInt32(bytes.count)
            var buffer = ByteBuffer(bytes: [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16),
                                            UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)] + bytes)
            _ = try? buffer.readFieldTable()
        }
    }
}

@Suite struct AMQPErrorCloseTests {
    @Test func hardErrorsCloseTheConnectionSoftOnesTheChannel() {
        let hard = AMQPError.frameError("bad").failing(classID: 60, methodID: 40)
        #expect(hard.closeMethod == .connectionClose(ConnectionClose(replyCode: 501, replyText: "FRAME_ERROR - bad",
                                                                      classID: 60, methodID: 40)))
        let soft = AMQPError.notFound("no queue 'q' in vhost '/'")
        #expect(soft.closeMethod == .channelClose(ChannelClose(replyCode: 404, replyText: "NOT_FOUND - no queue 'q' in vhost '/'",
                                                                classID: 0, methodID: 0)))
    }

    @Test func longReplyTextsStillEncode() throws {
        let error = AMQPError.notFound(String(repeating: "q", count: 400))
        var buffer = ByteBuffer()
        buffer.writeMethodFrame(channel: 1, error.closeMethod)
        var decoder = FrameDecoder(maxFrameSize: 4096)
        guard case .method(1, .channelClose(let close)) = try decoder.next(from: &buffer) else {
            Issue.record("no channel.close")
            return
        }
        #expect(close.replyText.utf8.count == 255)
        #expect(close.replyText.hasPrefix("NOT_FOUND - qqq"))
    }
}
