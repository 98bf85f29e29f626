import AOPIO
import AOPWire

/// A fake AMQP server that a test scripts frame by frame (to send what a correct broker never would).
actor ScriptedServer {
    nonisolated let loop: RingLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { self.loop.asUnownedSerialExecutor() }
    nonisolated let listener: TCPListener
    private var connection: TCPConnection?
    private var inbound = ByteBuffer()
    private var decoder = FrameDecoder(maxFrameSize: 0)

    init(loop: RingLoop) throws {
        self.loop = loop
        self.listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
    }

    nonisolated var port: UInt16 { self.listener.localPort }

    /// Accepts one client (without answering anything).
    func accept() async {
        var connections = self.listener.connections().makeAsyncIterator()
        self.connection = await connections.next(isolation: self)
    }

    /// Accepts one client and answers its handshake (PLAIN accepted, frame-max 131072, `heartbeat` offered).
    func acceptAndHandshake(heartbeat: UInt16 = 0) async throws {
        await self.accept()
        while self.inbound.readableBytes < 8 { try await self.receiveMore() }
        self.inbound.moveReaderIndex(forwardBy: 8)
        self.send(.connectionStart(ConnectionStart(versionMajor: 0, versionMinor: 9, serverProperties: [:],
                                                   mechanisms: Array("PLAIN".utf8), locales: Array("en_US".utf8))))
        _ = try await self.nextMethod()  // start-ok
        self.send(.connectionTune(ConnectionTune(channelMax: 16, frameMax: 131_072, heartbeat: heartbeat)))
        _ = try await self.nextMethod()  // tune-ok
        _ = try await self.nextMethod()  // open
        self.send(.connectionOpenOk(ConnectionOpenOk()))
    }

    /// The next method the client sent (heartbeats and content frames skipped).
    func nextMethod() async throws -> (channel: UInt16, method: AMQPMethod) {
        while true {
            if let frame = try self.decoder.next(from: &self.inbound) {
                if case .method(let channel, let method) = frame { return (channel, method) }
                continue
            }
            try await self.receiveMore()
        }
    }

    /// The next frame the client sent, heartbeats included.
    func nextFrame() async throws -> Frame {
        while true {
            if let frame = try self.decoder.next(from: &self.inbound) { return frame }
            try await self.receiveMore()
        }
    }

    func send(_ method: AMQPMethod, channel: UInt16 = 0) {
        var buffer = ByteBuffer()
        buffer.writeMethodFrame(channel: channel, method)
        self.connection?.write(buffer.storage)
    }

    func sendDeliver(channel: UInt16, consumerTag: String, deliveryTag: UInt64, body: [UInt8]) {
        var buffer = ByteBuffer()
        buffer.writeBasicDeliver(channel: channel, consumerTag: consumerTag, deliveryTag: deliveryTag, redelivered: false,
                                 exchange: "", routingKey: "q", properties: BasicProperties(), body: body, frameMax: 131_072)
        self.connection?.write(buffer.storage)
    }

    /// A content method (`basic.return`, `basic.get-ok`) with its header and body.
    func sendContent(_ method: AMQPMethod, channel: UInt16, body: [UInt8]) {
        var buffer = ByteBuffer()
        buffer.writeMethodFrame(channel: channel, method)
        buffer.writeContent(channel: channel, properties: BasicProperties(), body: body, frameMax: 131_072)
        self.connection?.write(buffer.storage)
    }

    /// Answers the client's `channel.open` and `basic.consume` (with `tag`) for `opening` and `consuming`.
    func expectOpenAndConsume() async throws -> UInt16 {
        let open = try await self.nextMethod()
        self.send(.channelOpenOk(ChannelOpenOk()), channel: open.channel)
        let consume = try await self.nextMethod()
        guard case .basicConsume(let request) = consume.method else { throw IOError(errno: 71, operation: "expected basic.consume") }
        self.send(.basicConsumeOk(BasicConsumeOk(consumerTag: request.consumerTag)), channel: open.channel)
        return open.channel
    }

    func sendRaw(_ bytes: [UInt8]) {
        self.connection?.write(bytes)
    }

    func close() {
        self.connection?.close()
        self.listener.close()
    }

    private func receiveMore() async throws {
        guard let chunk = try await self.connection?.receive() else { throw IOError(errno: 104, operation: "peer closed") }
        self.inbound.discardReadBytes()
        self.inbound.writeBytes(chunk)
    }
}
