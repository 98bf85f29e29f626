import AOPWire

/// The reply to a synchronous request.
enum RPCReply: Sendable {
    case method(AMQPMethod)
    /// `basic.get-ok` with its message.
    case delivery(AMQPDelivery)
}
