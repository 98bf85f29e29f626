import AOPIO
import AOPWire
import Logging

/// One client connection: reads frames from its socket, runs the connection state machine, owns its
/// channels, and writes replies and deliveries. Pinned to the socket's ring loop, so socket calls are
/// plain synchronous calls and only hops to vhosts and queues suspend.
actor AMQPConnection {
    nonisolated let unownedExecutor: UnownedSerialExecutor
    nonisolated let id: UInt64
    let socket: TCPConnection
    let broker: Broker
    var logger: Logger

    var machine: ConnectionStateMachine
    var decoder: FrameDecoder
    /// Received bytes not decoded yet. Empty (no storage) between reads: a received chunk becomes the
    /// buffer without a copy, and what is fully decoded is released (see `run()`).
    var inbound = ByteBuffer()
    /// Replies and deliveries not yet handed to the socket; grows on demand, released when idle.
    var out = ByteBuffer()
    var headerChecked = false

    var tuning: Tuning
    var virtualHost: VirtualHost?
    var clientCapabilities: FieldTable = [:]
    var channels: [UInt16: Channel] = [:]
    let inbox = DeliveryInbox()
    var draining = false
    /// A channel method is awaiting the broker; drains wait for its reply (see handleChannelFrame).
    var methodInFlight = false
    var drainDeferred = false

    /// Monotonic ticks of the last byte received and sent, for heartbeats.
    var lastReceive: ContinuousClock.Instant
    var lastSend: ContinuousClock.Instant
    /// The connection's one ring timer (handshake deadline or heartbeat), if armed.
    var timerToken: UInt64?
    /// The idle check while the read task waits in `receive()` (see `readLoop`), if armed.
    var idleTimerToken: UInt64?
    /// Set by the idle check: the read task should park instead of waiting in `receive()`.
    var parkRequested = false
    /// Input silence after which the read task ends and the connection parks.
    static let parkAfter: Duration = .seconds(1)
    /// Chunks read so far (counted up to `eagerParkChunks`).
    var chunksRead = 0
    /// For its first chunks (handshake, channel.open, declarations) a connection parks as soon as it
    /// waits: most connections that go idle do so right after those, and parking at once lets the
    /// next connection reuse the freed task stack instead of each idle one keeping its own.
    static let eagerParkChunks = 16
    var closed = false
    /// What the connection is doing or waiting for, for `diagnostics()` (stuck-connection reports).
    var activity = "reading"
    var blockedNotified = false
    /// Publishes handed to the publish worker and not yet answered by the broker.
    var publishQueue: [(UInt16, [Channel.PendingPublish])] = []
    var publishQueuedCount = 0
    /// Body bytes of those publishes (reading also stops past `maxQueuedPublishBytes`).
    var publishQueuedBytes = 0
    var publishWorkerRunning = false
    var publishIdleWaiters: [CheckedContinuation<Void, Never>] = []
    /// Batches begun by the publish worker and not yet finished (pipelining), and the worker waiting for
    /// one to finish or for more publishes.
    var publishBatchesInFlight = 0
    var publishWorkerWakeup: CheckedContinuation<Void, Never>?
    /// `wakePublishWorker()` was called while the worker did not wait: its next wait returns at once.
    var publishWorkSignalled = false
    /// Where the publish worker is, for `diagnostics()`.
    var publishWorkerPhase = "not started"
    /// Publishes queued or in flight per channel, and who waits for a channel's to finish.
    var publishesPerChannel: [UInt16: Int] = [:]
    var channelPublishWaiters: [UInt16: [CheckedContinuation<Void, Never>]] = [:]
    static let maxQueuedPublishes = 8192
    static let maxQueuedPublishBytes = 16 * 1024 * 1024
    /// Output buffer capacity kept between flushes; a larger one is released after its flush.
    static let retainedOutputCapacity = 256 * 1024
    /// Set by the first basic.publish: only publishing connections stop being read during an alarm.
    var hasPublished = false
    /// Deliveries written since the last transit-credit release, per consumer gate.
    var transmittedSinceRelease: [ObjectIdentifier: (CreditGate, Int)] = [:]

    init(id: UInt64, socket: TCPConnection, broker: Broker, logger: Logger) {
        self.id = id
        self.socket = socket
        self.unownedExecutor = socket.loop.asUnownedSerialExecutor()
        self.broker = broker
        var logger = logger
        logger[metadataKey: "connection"] = "\(socket.remoteAddress)"
        self.logger = logger
        let config = broker.configuration
        self.tuning = Tuning(channelMax: config.channelMax, frameMax: config.frameMax, heartbeat: config.heartbeat)
        self.machine = ConnectionStateMachine(configuration: .init(
            serverProperties: broker.serverProperties,
            tuning: self.tuning
        ))
        // Until tune-ok, frames are limited to the spec's minimum (plus room for start-ok with big tables).
        self.decoder = FrameDecoder(maxFrameSize: max(Tuning.minimumFrameMax, config.frameMax))
        let now = ContinuousClock.now
        self.lastReceive = now
        self.lastSend = now
    }

    /// Starts serving: arms the handshake timer and reads until the peer has nothing more to say.
    /// Returns once the connection waits for input; from then on it holds no task while idle (its
    /// socket starts a read task when bytes arrive) and tears itself down when it ends.
    func run() async {
        // The drain task starts on this connection's ring (a queue on another thread calls the wake):
        // a plain Task would start on the global pool and hop back.
        let loop = self.socket.loop
        self.inbox.setWake { [weak self] in
            guard let self else { return }
            Task(executorPreference: loop) { await self.drainInbox() }
        }
        self.startHandshakeTimer()
        await self.readLoop()
    }

    /// Reads and handles input, parks when there is none (no task: the socket calls back when bytes,
    /// end of input or an error arrive), and tears the connection down when it ended.
    ///
    /// A task that waited in `receive()` would keep, for the connection's lifetime, every task-stack
    /// slab its deepest frame handling ever needed (the task allocator frees slabs only with the task),
    /// several KiB per idle connection. A new connection parks whenever it waits (`eagerParkChunks`);
    /// a busy one keeps its task (a task per burst of input would cost about a microsecond each) and
    /// parks after `parkAfter` of silence, which one idle check per `parkAfter` notices.
    func readLoop() async {
        while !self.closed {
            if !self.socket.isReadable {
                if self.parkRequested || self.chunksRead < Self.eagerParkChunks {
                    self.park()
                    return
                }
                self.armIdleCheck()
            }
            let chunk: [UInt8]?
            do {
                chunk = try await self.socket.receive()
            } catch {
                self.logger.debug("receive failed: \(error)")
                break
            }
            guard let chunk else { break }  // EOF
            if chunk.isEmpty { continue }  // interrupted by the idle check (or an injected empty read)
            self.parkRequested = false
            if self.chunksRead < Self.eagerParkChunks { self.chunksRead += 1 }
            self.lastReceive = .now
            if self.inbound.readableBytes == 0 {
                self.inbound = ByteBuffer(bytes: chunk)  // adopts the chunk's storage, no copy
            } else {
                self.inbound.writeBytes(chunk)
            }
            await self.processInbound()
            self.flush()
            // Bounded publish pipeline: stop reading while too much waits for the broker.
            if Self.publishBacklogIsFull(count: self.publishQueuedCount, bytes: self.publishQueuedBytes) {
                await self.waitForPublishes()
            }
            if self.hasPublished && self.broker.alarms.isBlocked {
                await self.waitWhileBlocked()
            }
        }
        await self.teardown()
    }

    /// A resource alarm is on: stop reading from this publishing connection (TCP pushes back on the
    /// client) until it clears, as RabbitMQ does. Heartbeat monitoring is suspended meanwhile.
    func waitWhileBlocked() async {
        while !self.closed && self.broker.alarms.isBlocked {
            self.lastReceive = .now
            do {
                try await self.socket.loop.sleep(for: .milliseconds(100))
            } catch {
                return
            }
        }
        self.lastReceive = .now
    }

    /// Decodes and handles every complete frame in the inbound buffer.
    func processInbound() async {
        if !self.headerChecked {
            let check = ProtocolHeader.check(self.inbound.storage[self.inbound.readerIndex...])
            if case .needMore = check { return }
            self.headerChecked = true
            if case .ok = check { self.inbound.moveReaderIndex(forwardBy: 8) }
            self.execute(self.machine.protocolHeaderReceived(check))
            if self.closed { return }
        }
        while !self.closed && !self.machine.isClosing {
            if self.receiveWholePublish() { continue }
            let frame: Frame?
            do {
                frame = try self.decoder.next(from: &self.inbound)
            } catch {
                self.hardError(error)
                break
            }
            guard let frame else { break }
            if self.assemblePublish(frame) { continue }
            await self.handle(frame)
        }
        if !self.closed && self.machine.isClosing {
            // Closing: discard everything but connection.close/close-ok (spec 2.2.4).
            while let frame = try? self.decoder.next(from: &self.inbound) {
                if case .method(0, let method) = frame {
                    self.execute(self.machine.methodReceived(method))
                }
                if self.closed { break }
            }
        }
        self.enqueueAllPending()
        self.inbound.discardReadBytes()
    }

    func handle(_ frame: Frame) async {
        switch frame {
        case .heartbeat:
            return
        case .method(0, let method):
            await self.handleConnectionMethod(method)
        case .header(0, _), .body(0, _):
            self.hardError(.init(.unexpectedFrame, "content frame on channel 0"))
        case .method(let channel, _), .header(let channel, _), .body(let channel, _):
            guard self.machine.isOpen else {
                self.hardError(.init(.commandInvalid, "channel frame before connection.open"))
                return
            }
            await self.handleChannelFrame(channel: channel, frame)
        }
    }

    // MARK: output

    func send(_ write: (inout ByteBuffer) -> Void) {
        write(&self.out)
    }

    /// Hands buffered output to the socket (which coalesces everything written in one loop turn).
    func flush() {
        guard self.out.readableBytes > 0, !self.closed else {
            self.out.clear()
            return
        }
        self.out.withUnsafeReadableBytes { self.socket.write($0) }
        if self.out.storage.capacity > Self.retainedOutputCapacity {
            self.out = ByteBuffer()  // a burst of deliveries does not pin its buffer
        } else {
            self.out.clear()
        }
        self.lastSend = .now
    }

    // MARK: errors and close

    /// A connection-level error: connection.close with its code, then wait for close-ok.
    func hardError(_ error: AMQPError) {
        self.logger.info("closing connection: \(error)")
        var error = error
        if !error.code.closesConnection {
            error = AMQPError(AMQPError.Code(replyCode: error.code.replyCode, closesConnection: true, name: error.code.name),
                              error.message, classID: error.classID, methodID: error.methodID)
        }
        self.execute(self.machine.errorOccurred(error))
    }

    /// Server-initiated close (shutdown): connection.close 320, then wait briefly for close-ok.
    func close(reason: String) async {
        guard !self.closed else { return }
        self.execute(self.machine.closeRequested(reason: reason))
        self.flush()
        // Give the client a moment to answer close-ok; then close regardless.
        for _ in 0..<20 where !self.closed {
            try? await self.socket.loop.sleep(for: .milliseconds(50))
        }
        if !self.closed { self.closeSocket() }
    }

    func closeSocket() {
        guard !self.closed else { return }
        self.flush()
        self.closed = true
        self.cancelTimer()
        self.cancelIdleCheck()
        self.machine.socketClosed()
        self.flushAndCloseSocket()
    }

    /// How long a closing connection's last output may take to reach the peer before the socket is closed
    /// regardless.
    static let closeFlushTimeout: Duration = .seconds(1)

    /// Sends what is buffered and closes the socket, without waiting: a peer that stopped reading would
    /// hold `flushAndClose` forever (and with it the read task, the teardown and a graceful shutdown),
    /// so the socket is closed at the latest after `closeFlushTimeout`.
    func flushAndCloseSocket() {
        let socket = self.socket
        _ = socket.loop.schedule(after: Self.closeFlushTimeout) { socket.close() }
        Task { await self.socket.flushAndClose() }  // on this actor, i.e. on the socket's loop
    }

    /// Releases everything the connection held: consumers, unacked deliveries (requeued), exclusive queues.
    func teardown() async {
        self.closed = true
        self.cancelTimer()
        self.cancelIdleCheck()
        self.activity = "teardown: waiting for publishes"
        await self.waitForPublishes()
        self.machine.socketClosed()
        self.inbox.dropWake()
        let ids = Array(self.channels.keys)
        self.activity = "teardown: releasing channels"
        for id in ids {
            await self.releaseChannel(id)
        }
        // Deliveries the queues handed over but we never wrote are still unacked in their queues: requeue
        // them (consumers are cancelled now, so nothing more arrives). aop-stress found them lost here.
        self.activity = "teardown: requeueing inbox"
        await self.requeueInbox()
        if let vhost = self.virtualHost {
            self.activity = "teardown: vhost connectionClosed"
            await vhost.connectionClosed(connectionID: self.id)
        }
        self.activity = "teardown: closing socket"
        self.flushAndCloseSocket()
        self.broker.unregister(self.id)
        self.logger.debug("connection closed")
    }
}

