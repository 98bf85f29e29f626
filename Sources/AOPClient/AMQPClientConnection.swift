public import AOPIO
public import AOPWire

/// A connection to an AMQP 0-9-1 broker (RabbitMQ's dialect), driven by one io_uring ring loop.
///
/// The actor runs on its ring loop's thread: one reader task parses received bytes in place and routes
/// replies, confirms and deliveries; writes go into the socket's outbound buffer and leave in one send
/// per loop iteration. Actors pinned to the same loop talk to it without thread hops.
///
/// ```swift
/// let connection = try await AMQPClientConnection.connect(AMQPClientConfiguration(uri: "amqp://localhost"))
/// let channel = try await connection.openChannel()
/// _ = try await channel.queueDeclare("work")
/// try await channel.basicPublish(exchange: "", routingKey: "work", body: Array("hi".utf8))
/// try await connection.close()
/// ```
public actor AMQPClientConnection {
    enum Phase {
        case awaitingStart
        case awaitingTune
        case awaitingOpenOk
        case open
        /// `connection.close` sent by us.
        case closing
        case closed
    }

    /// The ring loop this connection (and its channels) run on.
    public nonisolated let loop: RingLoop
    public nonisolated let configuration: AMQPClientConfiguration
    public nonisolated var unownedExecutor: UnownedSerialExecutor { self.loop.asUnownedSerialExecutor() }

    let tcp: TCPConnection
    var phase = Phase.awaitingStart
    var handshakeWaiter: UnsafeContinuation<Result<Void, AMQPClientError>, Never>?
    var closeWaiters: [UnsafeContinuation<Void, Never>] = []
    /// Why the connection ended; nil while it is open.
    public internal(set) var closeError: AMQPClientError?
    var channels: [UInt16: ChannelState] = [:]
    /// Channels that closed (our close-ok, or the server's close) whose number was not reused since:
    /// content that still arrives for them is discarded (counted in the channel's `deliveriesAfterClose`),
    /// not a protocol violation.
    var closedChannels: [UInt16: ChannelSharedState] = [:]
    var nextChannelID: UInt16 = 1
    var scanner = FrameScanner(maxFrameSize: 0)
    var carry: [UInt8] = []
    var scratch = ByteBuffer(capacity: 4096)
    /// Consumers with deliveries gathered from the current read.
    var touched: [ConsumerState] = []
    var heartbeatTask: Task<Void, Never>?
    /// Reads so far (the heartbeat task watches it for silence).
    var receivedChunks = 0
    let blocked: LoopQueue<AMQPBlockedNotification>

    /// Negotiated limits (valid once connected).
    public internal(set) var channelMax: UInt16 = 0
    public internal(set) var frameMax: UInt32 = 0
    public internal(set) var heartbeat: UInt16 = 0
    /// What the server said about itself in `connection.start`.
    public internal(set) var serverProperties: FieldTable = [:]
    /// True between `connection.blocked` and `connection.unblocked`.
    public internal(set) var isBlocked = false

    /// Delivery batches buffered for one consumer beyond which the reader stops reading the socket until
    /// the consumer catches up (TCP then pushes back on the broker).
    static let consumerHighWater = 64
    /// Consumers whose queue reached its high water in the last read.
    var fullConsumers: [ConsumerState] = []
    /// True while the reader waits for a consumer to drain (it reads nothing meanwhile).
    var isReaderPaused = false

    /// How long `close()` waits for `close-ok`.
    static let closeTimeout = Duration.seconds(5)

    /// Outbound bytes beyond which publishers wait for the socket.
    static let outboundHighWater = 4 << 20
    static let outboundLowWater = 1 << 20

    init(configuration: AMQPClientConfiguration, tcp: TCPConnection) {
        self.configuration = configuration
        self.loop = tcp.loop
        self.tcp = tcp
        self.blocked = LoopQueue(loop: tcp.loop)
    }

    /// Connects, runs the handshake (PLAIN authentication, tuning, `connection.open`) and returns the
    /// open connection.
    /// - Parameters:
    ///   - configuration: address, credentials, virtual host, proposed limits.
    ///   - loop: the ring loop to run on; nil uses a process-wide default loop.
    /// - Throws: `AMQPClientError` `.transport` when the TCP connect fails, `.handshakeFailed` or
    ///   `.connectionClosedByServer` (e.g. 403 ACCESS_REFUSED, 530 NOT_ALLOWED) when the handshake fails.
    public static func connect(_ configuration: AMQPClientConfiguration, on loop: RingLoop? = nil)
        async throws(AMQPClientError) -> AMQPClientConnection
    {
        let loop = if let loop { loop } else { try DefaultRingLoop.shared() }
        let connected: Result<TCPConnection, IOError> = await withTaskExecutorPreference(loop) {
            await Self.openSocket(configuration, loop: loop)
        }
        let tcp: TCPConnection
        switch connected {
        case .success(let value): tcp = value
        case .failure(let error): throw .transport("\(error)")
        }
        let connection = AMQPClientConnection(configuration: configuration, tcp: tcp)
        try await connection.handshake()
        return connection
    }

    /// The TCP connect, run on `loop` (the executor preference puts this nonisolated code there).
    private nonisolated static func openSocket(_ configuration: AMQPClientConfiguration, loop: RingLoop) async
        -> Result<TCPConnection, IOError>
    {
        do {
            return .success(try await TCPConnection.connect(host: configuration.host, port: configuration.port,
                                                            on: loop, isolation: nil))
        } catch {
            return .failure(error)
        }
    }

    /// A blocked/unblocked notification sequence (resource alarms on the server).
    public nonisolated var blockedNotifications: AMQPClientSequence<AMQPBlockedNotification> {
        AMQPClientSequence(queue: self.blocked, connection: self)
    }

    /// True until the connection is closed, aborted or lost.
    public var isOpen: Bool { self.phase == .open }

    /// Suspends until the connection has ended; returns why (nil never: a closed connection always has
    /// its reason, `.connectionClosed` for `close()`/`abort()`).
    public func waitUntilClosed() async -> AMQPClientError {
        if let closeError { return closeError }
        await withUnsafeContinuation { continuation in
            // Re-checked here: the body can run after other jobs of this actor (see `rpc`).
            if self.closeError != nil { continuation.resume() } else { self.closeWaiters.append(continuation) }
        }
        return self.closeError ?? AMQPClientError(.connectionClosed, "closed")
    }

    /// Closes gracefully: `connection.close` 200, then waits for `close-ok` (or the socket's end).
    /// Channels and consumers end; their pending calls fail with `.connectionClosed`.
    /// - Throws: the earlier error when the connection had already failed.
    public func close() async throws(AMQPClientError) {
        switch self.phase {
        case .closed:
            if let error = self.closeError, error.code != .connectionClosed { throw error }
            return
        case .closing:
            _ = await self.waitUntilClosed()
            return
        case .awaitingStart, .awaitingTune, .awaitingOpenOk:
            self.terminate(AMQPClientError(.connectionClosed, "closed by client during the handshake"))
            return
        case .open:
            break
        }
        self.phase = .closing
        // The close-ok must be read even when nobody reads some consumer any more.
        for channel in self.channels.values {
            for consumer in channel.consumers.values { consumer.queue.releaseBackpressure() }
        }
        self.send(.connectionClose(ConnectionClose(replyCode: 200, replyText: "Goodbye", classID: 0, methodID: 0)),
                  channel: 0)
        let watchdog = Task {
            // A server that never answers: give up after the timeout and drop the socket.
            try await self.loop.sleep(for: Self.closeTimeout)
            self.terminate(AMQPClientError(.connectionClosed, "closed by client (no close-ok within \(Self.closeTimeout))"))
        }
        _ = await self.waitUntilClosed()
        watchdog.cancel()
    }

    /// Drops the socket at once, without the closing handshake (the server sees the connection vanish).
    /// Everything pending fails with `.connectionClosed`.
    public func abort() {
        self.terminate(AMQPClientError(.connectionClosed, "aborted by client"))
    }

    /// Ends the connection: fails every channel and waiter, closes the socket (after sending what is
    /// queued, for at most a second, when `flush`: a close-ok must reach the server).
    func terminate(_ error: AMQPClientError, flush: Bool = false) {
        guard self.phase != .closed else { return }
        self.phase = .closed
        self.closeError = error
        self.heartbeatTask?.cancel()
        self.heartbeatTask = nil
        if let waiter = self.handshakeWaiter {
            self.handshakeWaiter = nil
            waiter.resume(returning: .failure(error))
        }
        let channels = self.channels
        self.channels = [:]
        self.closedChannels = [:]
        for channel in channels.values { channel.fail(error) }
        self.blocked.finish(error.code == .connectionClosed ? nil : error)
        let waiters = self.closeWaiters
        self.closeWaiters = []
        for waiter in waiters { waiter.resume() }
        if flush {
            Task { await self.closeAfterFlushing() }
        } else {
            self.tcp.close()
        }
    }

    /// Closes the socket once the outbound buffer is empty (polled; see `applyBackpressure`), or after 1 s.
    private func closeAfterFlushing() async {
        for _ in 0..<10_000 where self.tcp.pendingOutboundBytes > 0 && !self.tcp.isClosed {
            guard (try? await self.loop.sleep(for: .microseconds(100))) != nil else { break }
        }
        self.tcp.close()
    }

    /// Writes one method frame.
    func send(_ method: AMQPMethod, channel: UInt16) {
        self.scratch.clear()
        self.scratch.writeMethodFrame(channel: channel, method)
        self.writeScratch()
    }

    func writeScratch() {
        self.scratch.storage.withUnsafeBytes { self.tcp.write($0) }
    }

    /// Waits while too many bytes are queued for the socket (publishers call it).
    ///
    /// Polls every 100 µs rather than using `TCPConnection.waitUntilWritable`: that registers its waiter in
    /// a `withUnsafeContinuation` body, which can run after the send completion it waits for (bodies were
    /// seen to run after other jobs on a ring executor), and then nothing would wake it.
    func applyBackpressure() async {
        guard self.tcp.pendingOutboundBytes >= Self.outboundHighWater else { return }
        while self.phase != .closed, self.tcp.pendingOutboundBytes >= Self.outboundLowWater {
            do {
                try await self.loop.sleep(for: .microseconds(100))
            } catch {
                return
            }
        }
    }
}
