public import AOPWire

/// The client side of an AMQP connection, for tests: builds the bytes a client would send and decodes
/// what a server sends back, with no sockets.
///
/// ```swift
/// var client = ScriptedClient()
/// client.sendProtocolHeader()
/// client.sendStartOk(username: "guest", password: "guest")
/// client.sendTuneOk(channelMax: 2047, frameMax: 131_072, heartbeat: 60)
/// client.sendOpen(virtualHost: "/")
/// server.feed(client.takeOutbound())
/// let replies = try client.receive(server.written)   // [ScriptedClient.Received]
/// ```
public struct ScriptedClient: Sendable {
    /// Something the server sent, with content already assembled.
    public enum Received: Sendable, Hashable {
        /// The server answered with a protocol header (it refused ours).
        case protocolHeader([UInt8])
        case method(channel: UInt16, AMQPMethod)
        case content(channel: UInt16, AMQPMethod, ContentHeader, body: [UInt8])
        case heartbeat
    }

    /// The frame-max used to split outgoing bodies and to limit incoming frames (0 = unlimited).
    public var frameMax: UInt32 {
        didSet { self.decoder.maxFrameSize = self.frameMax }
    }
    /// Bytes built so far and not yet taken.
    public private(set) var outbound = ByteBuffer()
    private var inbound = ByteBuffer()
    private var decoder: FrameDecoder
    private var assemblers: [UInt16: CommandAssembler] = [:]
    private var sawFirstBytes = false

    /// - Parameters:
    ///   - frameMax: splits published bodies; also the largest frame accepted from the server (0 = unlimited).
    public init(frameMax: UInt32 = 131_072) {
        self.frameMax = frameMax
        self.decoder = FrameDecoder(maxFrameSize: frameMax)
    }

    // MARK: building what a client sends

    /// Takes the bytes built so far.
    public mutating func takeOutbound() -> ByteBuffer {
        defer { self.outbound = ByteBuffer() }
        return self.outbound
    }

    /// Takes the bytes built so far as an array.
    public mutating func takeOutboundBytes() -> [UInt8] {
        self.takeOutbound().readableBytesArray
    }

    public mutating func sendProtocolHeader() {
        self.outbound.writeProtocolHeader()
    }

    /// Any bytes, e.g. a malformed frame.
    public mutating func sendRaw(_ bytes: [UInt8]) {
        self.outbound.writeBytes(bytes)
    }

    public mutating func send(_ method: AMQPMethod, channel: UInt16 = 0) {
        self.outbound.writeMethodFrame(channel: channel, method)
    }

    public mutating func sendFrame(_ frame: Frame) {
        self.outbound.writeFrame(frame)
    }

    public mutating func sendHeartbeat() {
        self.outbound.writeHeartbeat()
    }

    /// A content method followed by its header and body frames (split at `frameMax`).
    public mutating func sendContent(_ method: AMQPMethod, channel: UInt16, properties: BasicProperties = .init(), body: [UInt8]) {
        self.outbound.writeMethodFrame(channel: channel, method)
        self.outbound.writeContent(channel: channel, properties: properties, body: body, frameMax: self.frameMax)
    }

    /// basic.publish with its content.
    public mutating func publish(
        channel: UInt16, exchange: String = "", routingKey: String, mandatory: Bool = false,
        properties: BasicProperties = .init(), body: [UInt8]
    ) {
        let publish = BasicPublish(exchange: exchange, routingKey: routingKey, mandatory: mandatory)
        self.sendContent(.basicPublish(publish), channel: channel, properties: properties, body: body)
    }

    /// connection.start-ok with a PLAIN response (`\0user\0password`).
    public mutating func sendStartOk(
        username: String, password: String, clientProperties: FieldTable = ScriptedClient.defaultClientProperties
    ) {
        let response = [0] + Array(username.utf8) + [0] + Array(password.utf8)
        self.send(.connectionStartOk(ConnectionStartOk(
            clientProperties: clientProperties, mechanism: "PLAIN", response: response, locale: "en_US")))
    }

    public mutating func sendTuneOk(channelMax: UInt16, frameMax: UInt32, heartbeat: UInt16) {
        self.send(.connectionTuneOk(ConnectionTuneOk(channelMax: channelMax, frameMax: frameMax, heartbeat: heartbeat)))
    }

    public mutating func sendOpen(virtualHost: String) {
        self.send(.connectionOpen(ConnectionOpen(virtualHost: virtualHost)))
    }

    /// Client properties like pika's, advertising the RabbitMQ capabilities clients rely on.
    public static let defaultClientProperties: FieldTable = [
        "product": "ScriptedClient",
        "platform": "Swift",
        "capabilities": .table([
            "authentication_failure_close": true,
            "basic.nack": true,
            "connection.blocked": true,
            "consumer_cancel_notify": true,
            "publisher_confirms": true,
        ]),
    ]

    // MARK: decoding what a server sends

    /// Adds bytes the server sent and returns everything that is now complete.
    /// - Throws: the decoding error (`AMQPError`) if the server sent something malformed.
    public mutating func receive(_ bytes: [UInt8]) throws(AMQPError) -> [Received] {
        self.inbound.writeBytes(bytes)
        return try self.drain()
    }

    /// Adds the readable bytes of `buffer` (consuming them) and returns everything now complete.
    public mutating func receive(_ buffer: ByteBuffer) throws(AMQPError) -> [Received] {
        var buffer = buffer
        self.inbound.writeBuffer(&buffer)
        return try self.drain()
    }

    private mutating func drain() throws(AMQPError) -> [Received] {
        var out: [Received] = []
        if !self.sawFirstBytes, self.inbound.readableBytes >= 4 {
            self.sawFirstBytes = true
            if self.inbound.readableBytesArray.starts(with: [0x41, 0x4D, 0x51, 0x50]) {  // "AMQP"
                guard let header = self.inbound.readBytes(length: 8) else {
                    self.sawFirstBytes = false
                    return out
                }
                out.append(.protocolHeader(header))
            }
        }
        guard self.sawFirstBytes else { return out }
        while let frame = try self.decoder.next(from: &self.inbound) {
            if case .heartbeat = frame {
                out.append(.heartbeat)
                continue
            }
            let channel = frame.channel
            var assembler = self.assemblers[channel] ?? CommandAssembler(maxBodySize: UInt64.max)
            let output = try assembler.process(frame)
            self.assemblers[channel] = assembler
            switch output {
            case .needMore: break
            case .method(let method): out.append(.method(channel: channel, method))
            case .content(let method, let header, let body):
                out.append(.content(channel: channel, method, header, body: body))
            }
        }
        self.inbound.discardReadBytes()
        return out
    }
}
