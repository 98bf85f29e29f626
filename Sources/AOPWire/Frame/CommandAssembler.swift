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
public struct CommandAssembler: Sendable {
    public enum Output: Sendable, Hashable {
        case needMore
        case method(AMQPMethod)
        case content(AMQPMethod, ContentHeader, body: [UInt8])
    }

    enum State: Sendable {
        case idle
        case awaitingHeader(AMQPMethod)
        case awaitingBody(AMQPMethod, ContentHeader, [UInt8])
        /// Placeholder while the body is appended in place (see STYLE.md note A).
        case modifying
    }

    /// The largest body size a content header may declare.
    public var maxBodySize: UInt64
    private(set) var state: State = .idle

    public init(maxBodySize: UInt64) {
        self.maxBodySize = maxBodySize
    }

    /// True when no content method is waiting for its header or body.
    public var isIdle: Bool {
        if case .idle = self.state { return true }
        return false
    }

    public mutating func process(_ frame: Frame) throws(AMQPError) -> Output {
        switch frame {
        case .method(_, let method): return try self.method(method)
        case .header(_, let header): return try self.header(header)
        case .body(_, let bytes): return try self.body(bytes)
        case .heartbeat: return .needMore
        }
    }

    private mutating func method(_ method: AMQPMethod) throws(AMQPError) -> Output {
        switch self.state {
        case .idle:
            guard method.hasContent else { return .method(method) }
            self.state = .awaitingHeader(method)
            return .needMore
        case .awaitingHeader(let pending):
            throw Self.unexpected("expected content header for class \(pending.classID), got non content header frame instead", pending)
        case .awaitingBody(let pending, _, _):
            throw Self.unexpected("expected content body, got non content body frame instead", pending)
        case .modifying:
            preconditionFailure("CommandAssembler left in .modifying")
        }
    }

    private mutating func header(_ header: ContentHeader) throws(AMQPError) -> Output {
        switch self.state {
        case .idle:
            throw AMQPError.unexpectedFrame("expected method frame, got non method frame instead")
        case .awaitingHeader(let method):
            guard header.weight == 0 else {
                throw Self.unexpected("expected content header for class \(method.classID), got non content header frame instead", method)
            }
            guard header.classID == method.classID else {
                throw Self.unexpected("expected content header for class \(method.classID), got one for class \(header.classID) instead", method)
            }
            guard header.bodySize <= self.maxBodySize else {
                throw AMQPError.frameError("content body size \(header.bodySize) exceeds maximum allowed size \(self.maxBodySize)")
                    .failing(classID: method.classID, methodID: method.methodID)
            }
            if header.bodySize == 0 {
                self.state = .idle
                return .content(method, header, body: [])
            }
            self.state = .awaitingBody(method, header, [])
            return .needMore
        case .awaitingBody(let method, _, _):
            throw Self.unexpected("expected content body, got non content body frame instead", method)
        case .modifying:
            preconditionFailure("CommandAssembler left in .modifying")
        }
    }

    private mutating func body(_ bytes: [UInt8]) throws(AMQPError) -> Output {
        switch self.state {
        case .idle:
            throw AMQPError.unexpectedFrame("expected method frame, got non method frame instead")
        case .awaitingHeader(let method):
            throw Self.unexpected("expected content header for class \(method.classID), got non content header frame instead", method)
        case .awaitingBody(let method, let header, var body):
            guard UInt64(bytes.count) <= header.bodySize - UInt64(body.count) else {
                throw AMQPError.frameError("content body frame exceeds remaining content size")
                    .failing(classID: method.classID, methodID: method.methodID)
            }
            self.state = .modifying  // drop the stored reference so `body` is appended in place
            if body.isEmpty {
                body = bytes  // the common single-frame body: no copy
            } else {
                body.append(contentsOf: bytes)
            }
            if UInt64(body.count) == header.bodySize {
                self.state = .idle
                return .content(method, header, body: body)
            }
            self.state = .awaitingBody(method, header, body)
            return .needMore
        case .modifying:
            preconditionFailure("CommandAssembler left in .modifying")
        }
    }

    private static func unexpected(_ message: String, _ method: AMQPMethod) -> AMQPError {
        AMQPError.unexpectedFrame(message).failing(classID: method.classID, methodID: method.methodID)
    }
}
