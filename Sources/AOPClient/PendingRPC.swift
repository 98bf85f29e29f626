import AOPWire

/// A synchronous request waiting for its reply (`queue.declare` → `queue.declare-ok`, …).
struct PendingRPC {
    /// (class id, method id) of the replies that answer it.
    var replies: [(UInt16, UInt16)]
    var continuation: UnsafeContinuation<Result<RPCReply, AMQPClientError>, Never>
}

/// The reply to a synchronous request.
enum RPCReply: Sendable {
    case method(AMQPMethod)
    /// `basic.get-ok` with its message.
    case delivery(AMQPDelivery)
}
