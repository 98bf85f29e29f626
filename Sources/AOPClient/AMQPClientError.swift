/// An error from the client: a connection or channel closed by the server (with its reply code, text and
/// failing method), closed or aborted locally, a transport failure, or a protocol violation by the peer.
public struct AMQPClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// The server sent `connection.close`: `replyCode`, `replyText`, `classID`, `methodID` say why.
        public static let connectionClosedByServer = Code("connectionClosedByServer")
        /// The server sent `channel.close`: `replyCode`, `replyText`, `classID`, `methodID` say why.
        public static let channelClosedByServer = Code("channelClosedByServer")
        /// The connection was closed (`close()`) or aborted (`abort()`) by this client.
        public static let connectionClosed = Code("connectionClosed")
        /// The channel was closed by this client.
        public static let channelClosed = Code("channelClosed")
        /// The socket failed or the peer closed it without a `connection.close`.
        public static let transport = Code("transport")
        /// The server sent something this client cannot accept (bad frame, unexpected method).
        public static let protocolViolation = Code("protocolViolation")
        /// The handshake failed (refused credentials, unsupported mechanism, no such virtual host).
        public static let handshakeFailed = Code("handshakeFailed")
        /// A call with arguments the client refuses (bad URI, no free channel, …).
        public static let invalidArgument = Code("invalidArgument")
    }

    public var code: Code
    /// The AMQP reply code for closes by the server (404, 406, 320, …); 0 otherwise.
    public var replyCode: UInt16
    /// The server's reply text, or a description of the local failure.
    public var replyText: String
    /// Class and method id of the method that failed, as sent by the server; 0 when unknown.
    public var classID: UInt16
    public var methodID: UInt16

    public init(_ code: Code, replyCode: UInt16 = 0, _ replyText: String, classID: UInt16 = 0, methodID: UInt16 = 0) {
        self.code = code
        self.replyCode = replyCode
        self.replyText = replyText
        self.classID = classID
        self.methodID = methodID
    }

    public var description: String {
        var text = "\(self.code.name)"
        if self.replyCode != 0 { text += " \(self.replyCode)" }
        text += ": \(self.replyText)"
        if self.classID != 0 { text += " (class \(self.classID), method \(self.methodID))" }
        return text
    }

    static func transport(_ text: String) -> AMQPClientError { .init(.transport, text) }
    static func protocolViolation(_ text: String) -> AMQPClientError { .init(.protocolViolation, text) }
    static func invalidArgument(_ text: String) -> AMQPClientError { .init(.invalidArgument, text) }
}
