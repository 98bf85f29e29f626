import AOPWire

/// libFuzzer entry point: the input is a byte stream of frames (as `FrameDecoderFuzz`), each decoded frame
/// fed to a `CommandAssembler` for its channel (max body size 65536), until the first error.
///
/// Invariants checked besides "no crash", against a small model of the assembler:
/// - body bytes accepted for a content never exceed the size its header declared;
/// - a content command's body has exactly the declared size, at most `maxBodySize`, its header has weight 0
///   and the method's class id, and the method carries content; a plain command's method does not;
/// - the assembler is idle exactly when no content method is waiting for its header or body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let maxBodySize: UInt64 = 65_536
    var buffer = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    var decoder = FrameDecoder(maxFrameSize: 131_072)
    var assemblers: [UInt16: CommandAssembler] = [:]
    var models: [UInt16: Model] = [:]
    while true {
        let frame: Frame?
        do {
            frame = try decoder.next(from: &buffer)
        } catch {
            return 0
        }
        guard let frame else { return 0 }
        let channel = frame.channel
        var assembler = assemblers[channel] ?? CommandAssembler(maxBodySize: maxBodySize)
        var model = models[channel] ?? Model()
        let output: CommandAssembler.Output
        do {
            output = try assembler.process(frame)
        } catch {
            return 0  // a connection error: nothing after it is read
        }
        model.accept(frame)
        switch output {
        case .needMore:
            break
        case .method(let method):
            precondition(!method.hasContent, "content method \(method.name) returned without content")
        case .content(let method, let header, let body):
            precondition(method.hasContent, "\(method.name) returned with content")
            precondition(header.weight == 0, "content header weight \(header.weight)")
            precondition(header.classID == method.classID, "header class \(header.classID) for \(method.name)")
            precondition(header.bodySize <= maxBodySize, "body size \(header.bodySize) over the maximum")
            precondition(UInt64(body.count) == header.bodySize, "body of \(body.count) bytes, declared \(header.bodySize)")
            precondition(model.completed == header.bodySize, "model saw \(model.completed ?? 0) body bytes")
        }
        precondition(model.bodyBytes <= model.declared, "body bytes \(model.bodyBytes) exceed declared \(model.declared)")
        precondition(assembler.isIdle == model.idle, "assembler idle \(assembler.isIdle), model idle \(model.idle)")
        assemblers[channel] = assembler
        models[channel] = model
    }
}

/// What the assembler should be doing for one channel, given frames it accepted without error.
struct Model {
    /// A content method waits for its header or body.
    var idle = true
    var awaitingHeader = false
    var declared: UInt64 = 0
    var bodyBytes: UInt64 = 0
    /// The body size of the content completed by the last frame, if it completed one.
    var completed: UInt64?

    mutating func accept(_ frame: Frame) {
        self.completed = nil
        switch frame {
        case .method(_, let method):
            if method.hasContent {
                self.idle = false
                self.awaitingHeader = true
            }
        case .header(_, let header):
            self.awaitingHeader = false
            self.declared = header.bodySize
            self.bodyBytes = 0
            if header.bodySize == 0 { self.finish() }
        case .body(_, let bytes):
            self.bodyBytes += UInt64(bytes.count)
            if self.bodyBytes == self.declared { self.finish() }
        case .heartbeat:
            break
        }
    }

    private mutating func finish() {
        self.completed = self.declared
        self.idle = true
        self.declared = 0
        self.bodyBytes = 0
    }
}
