public import AOPWire

/// An error of the embedded API. Every error carries an AMQP reply code: the one a TCP client would see
/// in channel.close / connection.close for the same condition, or 0 where AMQP has none (a nacked publish,
/// a consumer cancelled by the broker).
public struct EmbeddedBrokerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, independent of the reply code.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// The broker refused an operation (unknown queue, inequivalent arguments, exclusive use, …);
        /// ``EmbeddedBrokerError/amqpError`` has the details.
        public static let refused = Kind(name: "refused")
        /// The broker is not running (not started yet, or shut down): 320 CONNECTION_FORCED.
        public static let notRunning = Kind(name: "notRunning")
        /// A mandatory publish reached no queue: 312 NO_ROUTE.
        public static let unroutable = Kind(name: "unroutable")
        /// A queue refused the publish (x-overflow reject-publish, storage failure): a confirm-mode
        /// client would get basic.nack. Reply code 0.
        public static let publishRejected = Kind(name: "publishRejected")
        /// The delivery was already settled, or given back when its consumer ended: 406 PRECONDITION_FAILED
        /// (RabbitMQ's "unknown delivery tag").
        public static let deliveryNotPending = Kind(name: "deliveryNotPending")
        /// The broker cancelled the consumer (its queue was deleted). Reply code 0.
        public static let consumerCancelled = Kind(name: "consumerCancelled")
        /// Storage or a listener could not be opened at start: 541 INTERNAL_ERROR.
        public static let startFailed = Kind(name: "startFailed")
        public var description: String { self.name }
    }

    public var kind: Kind
    /// The AMQP reply code (404 NOT_FOUND, 406 PRECONDITION_FAILED, …), or 0.
    public var replyCode: UInt16
    public var message: String
    /// The broker's error, for `.refused` (and `.unroutable`): reply code, name and text as RabbitMQ formats them.
    public var amqpError: AMQPError?

    public init(kind: Kind, replyCode: UInt16, message: String, amqpError: AMQPError? = nil) {
        self.kind = kind
        self.replyCode = replyCode
        self.message = message
        self.amqpError = amqpError
    }

    /// Wraps a broker error, keeping its reply code.
    public init(_ error: AMQPError) {
        self.init(kind: .refused, replyCode: error.code.replyCode, message: error.replyText, amqpError: error)
    }

    public var description: String { "\(self.kind) (\(self.replyCode)): \(self.message)" }

    static let notRunning = EmbeddedBrokerError(kind: .notRunning, replyCode: AMQPError.Code.connectionForced.replyCode,
                                                message: "the embedded broker is not running")
    static func notPending(_ id: UInt64) -> EmbeddedBrokerError {
        .init(kind: .deliveryNotPending, replyCode: AMQPError.Code.preconditionFailed.replyCode,
              message: "delivery \(id) is not pending (already settled, auto-ack, or its consumer ended)")
    }
}
