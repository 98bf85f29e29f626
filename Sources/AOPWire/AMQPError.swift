/// An AMQP protocol error: the reply code and text of the `channel.close` or `connection.close`
/// it causes, and the method that failed (class id, method id), when known.
public struct AMQPError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        public let replyCode: UInt16
        /// Hard errors close the connection; soft errors close only the channel.
        public let closesConnection: Bool
        public let name: String

        public init(replyCode: UInt16, closesConnection: Bool, name: String) {
            self.replyCode = replyCode
            self.closesConnection = closesConnection
            self.name = name
        }

        // Soft errors (channel.close), from the 0-9-1 spec's constants.
        public static let contentTooLarge = Code(replyCode: 311, closesConnection: false, name: "CONTENT_TOO_LARGE")
        public static let noRoute = Code(replyCode: 312, closesConnection: false, name: "NO_ROUTE")
        public static let noConsumers = Code(replyCode: 313, closesConnection: false, name: "NO_CONSUMERS")
        public static let accessRefused = Code(replyCode: 403, closesConnection: false, name: "ACCESS_REFUSED")
        public static let notFound = Code(replyCode: 404, closesConnection: false, name: "NOT_FOUND")
        public static let resourceLocked = Code(replyCode: 405, closesConnection: false, name: "RESOURCE_LOCKED")
        public static let preconditionFailed = Code(replyCode: 406, closesConnection: false, name: "PRECONDITION_FAILED")
        // Hard errors (connection.close).
        public static let connectionForced = Code(replyCode: 320, closesConnection: true, name: "CONNECTION_FORCED")
        public static let invalidPath = Code(replyCode: 402, closesConnection: true, name: "INVALID_PATH")
        /// ACCESS_REFUSED during the handshake (bad credentials) closes the connection.
        public static let connectionAccessRefused = Code(replyCode: 403, closesConnection: true, name: "ACCESS_REFUSED")
        public static let frameError = Code(replyCode: 501, closesConnection: true, name: "FRAME_ERROR")
        public static let syntaxError = Code(replyCode: 502, closesConnection: true, name: "SYNTAX_ERROR")
        public static let commandInvalid = Code(replyCode: 503, closesConnection: true, name: "COMMAND_INVALID")
        public static let channelError = Code(replyCode: 504, closesConnection: true, name: "CHANNEL_ERROR")
        public static let unexpectedFrame = Code(replyCode: 505, closesConnection: true, name: "UNEXPECTED_FRAME")
        public static let resourceError = Code(replyCode: 506, closesConnection: true, name: "RESOURCE_ERROR")
        public static let notAllowed = Code(replyCode: 530, closesConnection: true, name: "NOT_ALLOWED")
        public static let notImplemented = Code(replyCode: 540, closesConnection: true, name: "NOT_IMPLEMENTED")
        public static let internalError = Code(replyCode: 541, closesConnection: true, name: "INTERNAL_ERROR")
    }

    public var code: Code
    public var message: String
    /// (class id, method id) of the method that caused the error; (0, 0) when none.
    public var classID: UInt16
    public var methodID: UInt16

    public init(_ code: Code, _ message: String, classID: UInt16 = 0, methodID: UInt16 = 0) {
        self.code = code
        self.message = message
        self.classID = classID
        self.methodID = methodID
    }

    /// The reply text as RabbitMQ formats it: `NOT_FOUND - no queue 'q' in vhost '/'`.
    public var replyText: String { "\(self.code.name) - \(self.message)" }
    public var description: String { "\(self.code.replyCode) \(self.replyText)" }

    public static func frameError(_ m: String) -> AMQPError { .init(.frameError, m) }
    public static func syntaxError(_ m: String) -> AMQPError { .init(.syntaxError, m) }
    public static func unexpectedFrame(_ m: String) -> AMQPError { .init(.unexpectedFrame, m) }
    public static func commandInvalid(_ m: String) -> AMQPError { .init(.commandInvalid, m) }
    public static func channelError(_ m: String) -> AMQPError { .init(.channelError, m) }
    public static func notImplemented(_ m: String) -> AMQPError { .init(.notImplemented, m) }
    public static func notFound(_ m: String) -> AMQPError { .init(.notFound, m) }
    public static func preconditionFailed(_ m: String) -> AMQPError { .init(.preconditionFailed, m) }
    public static func accessRefused(_ m: String) -> AMQPError { .init(.accessRefused, m) }
    public static func resourceLocked(_ m: String) -> AMQPError { .init(.resourceLocked, m) }
    public static func notAllowed(_ m: String) -> AMQPError { .init(.notAllowed, m) }
    public static func internalError(_ m: String) -> AMQPError { .init(.internalError, m) }

    /// The same error attributed to a failing method.
    public func failing(classID: UInt16, methodID: UInt16) -> AMQPError {
        var e = self
        e.classID = classID
        e.methodID = methodID
        return e
    }
}
