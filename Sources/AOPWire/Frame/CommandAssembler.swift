/// Assembles one channel's frames into commands: a method, or a content method with its header and body.
///
/// A pure state machine (RabbitMQ's `rabbit_command_assembler:process/2`), one per channel. Errors, as RabbitMQ:
/// - a header or body frame with no content method pending, a method frame while a content method waits for
///   its header or body, a body frame instead of the header, a header with a weight other than 0, or a header
///   frame instead of a body: 505 UNEXPECTED_FRAME;
/// - a header whose class id differs from the method's: 505 UNEXPECTED_FRAME;
/// - a body size over `maxBodySize`: 501 FRAME_ERROR ("content body size … exceeds maximum allowed size");
/// - body frames beyond the declared body size: 501 FRAME_ERROR.
/// Errors name the pending content method as the failing method. Heartbeats are connection-level and pass
/// through as `.needMore` without touching the state.
///
/// The pending method, header and body live in stored properties beside the small `state` enum rather than
/// in its payloads: the frames are large values (a header holds 14 properties), and moving them in and
/// out of enum payloads on every frame cost more than the decoding itself. The body is appended in place.
public struct CommandAssembler: Sendable {
    public enum Output: Sendable, Hashable {
        case needMore
        case method(AMQPMethod)
        case content(AMQPMethod, ContentHeader, body: [UInt8])
    }

    enum State: Sendable {
        case idle
        /// `pendingMethod` is set.
        case awaitingHeader
        /// `pendingMethod` and `pendingHeader` are set; `body` holds what arrived so far.
        case awaitingBody
    }

    /// The largest body size a content header may declare.
    public var maxBodySize: UInt64
    private(set) var state: State = .idle
    private var pendingMethod: AMQPMethod?
    private var pendingHeader: ContentHeader?
    private var body: [UInt8] = []

    public init(maxBodySize: UInt64) {
        self.maxBodySize = maxBodySize
    }

    /// True when no content method is waiting for its header or body.
    public var isIdle: Bool {
        if case .idle = self.state { return true }
        return false
    }

    public mutating func process(_ frame: consuming Frame) throws(AMQPError) -> Output {
        switch consume frame {
        case .method(_, let method): return try self.method(method)
        case .header(_, let header): return try self.header(header)
        case .body(_, let bytes): return try self.body(bytes)
        case .heartbeat: return .needMore
        }
    }

    private mutating func method(_ method: consuming AMQPMethod) throws(AMQPError) -> Output {
        switch self.state {
        case .idle:
            guard method.hasContent else { return .method(method) }
            self.pendingMethod = consume method
            self.state = .awaitingHeader
            return .needMore
        case .awaitingHeader:
            throw self.unexpected("expected content header for class \(self.pendingClassID), got non content header frame instead")
        case .awaitingBody:
            throw self.unexpected("expected content body, got non content body frame instead")
        }
    }

    private mutating func header(_ header: consuming ContentHeader) throws(AMQPError) -> Output {
        switch self.state {
        case .idle:
            throw AMQPError.unexpectedFrame("expected method frame, got non method frame instead")
        case .awaitingHeader:
            let classID = self.pendingClassID
            guard header.weight == 0 else {
                throw self.unexpected("expected content header for class \(classID), got non content header frame instead")
            }
            guard header.classID == classID else {
                throw self.unexpected("expected content header for class \(classID), got one for class \(header.classID) instead")
            }
            guard header.bodySize <= self.maxBodySize else {
                throw self.failing(.frameError("content body size \(header.bodySize) exceeds maximum allowed size \(self.maxBodySize)"))
            }
            if header.bodySize == 0 {
                self.state = .idle
                return .content(self.pendingMethod.take()!, header, body: [])
            }
            self.pendingHeader = consume header
            self.state = .awaitingBody
            return .needMore
        case .awaitingBody:
            throw self.unexpected("expected content body, got non content body frame instead")
        }
    }

    private mutating func body(_ bytes: consuming [UInt8]) throws(AMQPError) -> Output {
        switch self.state {
        case .idle:
            throw AMQPError.unexpectedFrame("expected method frame, got non method frame instead")
        case .awaitingHeader:
            throw self.unexpected("expected content header for class \(self.pendingClassID), got non content header frame instead")
        case .awaitingBody:
            let bodySize = self.pendingHeader!.bodySize
            guard UInt64(bytes.count) <= bodySize - UInt64(self.body.count) else {
                throw self.failing(.frameError("content body frame exceeds remaining content size"))
            }
            if self.body.isEmpty {
                self.body = consume bytes  // the common single-frame body: no copy
            } else {
                self.body.append(contentsOf: bytes)
            }
            guard UInt64(self.body.count) == bodySize else { return .needMore }
            self.state = .idle
            let body = self.body
            self.body = []
            return .content(self.pendingMethod.take()!, self.pendingHeader.take()!, body: body)
        }
    }

    private var pendingClassID: UInt16 { self.pendingMethod?.classID ?? 0 }

    private func failing(_ error: AMQPError) -> AMQPError {
        guard let method = self.pendingMethod else { return error }
        return error.failing(classID: method.classID, methodID: method.methodID)
    }

    private func unexpected(_ message: String) -> AMQPError {
        self.failing(.unexpectedFrame(message))
    }
}
