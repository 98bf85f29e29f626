import AOPIO
import AOPWire

/// One connection to the null broker: answers the handshake and every synchronous method with its -ok,
/// swallows publishes (acking them with one multiple ack per read in confirm mode) and streams
/// pre-encoded deliveries to each consumer as fast as the socket takes them.
actor NullBrokerConnection {
    nonisolated let loop: RingLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { self.loop.asUnownedSerialExecutor() }
    let tcp: TCPConnection
    let bodySize: Int
    private var carry: [UInt8] = []
    private var sawHeader = false
    /// Confirm-mode channels and their last publish sequence number.
    private var confirmSequence: [UInt16: UInt64] = [:]
    private var confirmDirty: [UInt16] = []
    /// The consumer streaming on each channel.
    private var streams: [UInt16: String] = [:]
    private var queueCounter = 0
    private var out = ByteBuffer(capacity: 256)
    /// Deliveries per pre-encoded block.
    static let blockSize = 256

    init(tcp: TCPConnection, bodySize: Int) {
        self.loop = tcp.loop
        self.tcp = tcp
        self.bodySize = bodySize
    }

    func serve() async {
        while true {
            guard let chunk = try? await self.tcp.receive() else { break }
            if chunk.isEmpty { continue }
            if !self.process(chunk) { break }
        }
        self.streams = [:]
        await self.tcp.flushAndClose()
    }

    /// Handles every complete frame; false when the connection should close.
    private func process(_ chunk: [UInt8]) -> Bool {
        var bytes: [UInt8]
        if self.carry.isEmpty {
            bytes = chunk
        } else {
            self.carry.append(contentsOf: chunk)
            bytes = self.carry
            self.carry = []
        }
        var offset = 0
        if !self.sawHeader {
            guard bytes.count >= 8 else {
                self.carry = bytes
                return true
            }
            self.sawHeader = true
            offset = 8
            self.send(.connectionStart(ConnectionStart(
                versionMajor: 0, versionMinor: 9,
                serverProperties: ["product": "aop-perf null-broker",
                                   "capabilities": .table(["publisher_confirms": true, "basic.nack": true,
                                                           "consumer_cancel_notify": true])],
                mechanisms: Array("PLAIN".utf8), locales: Array("en_US".utf8))), channel: 0)
        }
        var keepOpen = true
        bytes.withUnsafeBytes { raw in
            while raw.count - offset >= 7 {
                let type = raw[offset]
                let channel = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 1, as: UInt16.self))
                let size = Int(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 3, as: UInt32.self)))
                guard raw.count - offset >= size + 8 else { break }
                let payload = UnsafeRawBufferPointer(rebasing: raw[(offset + 7)..<(offset + 7 + size)])
                offset += size + 8
                if type == 8 {  // a heartbeat is answered with one: the client then hears from us while idle
                    self.out.clear()
                    self.out.writeHeartbeat()
                    self.out.storage.withUnsafeBytes { self.tcp.write($0) }
                    continue
                }
                guard type == 1, payload.count >= 4 else { continue }  // content frames: swallowed
                let classID = UInt16(bigEndian: payload.loadUnaligned(fromByteOffset: 0, as: UInt16.self))
                let methodID = UInt16(bigEndian: payload.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                if classID == 60, methodID == 40 {  // basic.publish: the hot path
                    if let sequence = self.confirmSequence[channel] {
                        if sequence == self.lastAcked(channel) { self.confirmDirty.append(channel) }
                        self.confirmSequence[channel] = sequence + 1
                    }
                    continue
                }
                if classID == 60, methodID == 80 || methodID == 120 || methodID == 90 { continue }  // acks
                var buffer = ByteBuffer(bytes: payload)
                guard let method = try? AMQPMethod.decode(from: &buffer) else {
                    keepOpen = false
                    return
                }
                if !self.handle(method, channel: channel) {
                    keepOpen = false
                    return
                }
            }
        }
        for channel in self.confirmDirty {
            guard let sequence = self.confirmSequence[channel] else { continue }
            self.send(.basicAck(BasicAck(deliveryTag: sequence, multiple: true)), channel: channel)
            self.acked[channel] = sequence
        }
        self.confirmDirty.removeAll(keepingCapacity: true)
        if offset < bytes.count { self.carry = Array(bytes[offset...]) }
        return keepOpen
    }

    private var acked: [UInt16: UInt64] = [:]
    private func lastAcked(_ channel: UInt16) -> UInt64 { self.acked[channel] ?? 0 }

    /// Answers one method; false for connection.close.
    private func handle(_ method: AMQPMethod, channel: UInt16) -> Bool {
        switch method {
        case .connectionStartOk:
            self.send(.connectionTune(ConnectionTune(channelMax: 2047, frameMax: 131_072, heartbeat: 0)), channel: 0)
        case .connectionTuneOk:
            break
        case .connectionOpen:
            self.send(.connectionOpenOk(ConnectionOpenOk()), channel: 0)
        case .connectionClose:
            self.send(.connectionCloseOk(ConnectionCloseOk()), channel: 0)
            return false
        case .channelOpen:
            self.send(.channelOpenOk(ChannelOpenOk()), channel: channel)
        case .channelClose:
            self.forget(channel)
            self.send(.channelCloseOk(ChannelCloseOk()), channel: channel)
        case .channelFlow(let flow):
            self.send(.channelFlowOk(ChannelFlowOk(active: flow.active)), channel: channel)
        case .exchangeDeclare:
            self.send(.exchangeDeclareOk(ExchangeDeclareOk()), channel: channel)
        case .exchangeDelete:
            self.send(.exchangeDeleteOk(ExchangeDeleteOk()), channel: channel)
        case .exchangeBind:
            self.send(.exchangeBindOk(ExchangeBindOk()), channel: channel)
        case .exchangeUnbind:
            self.send(.exchangeUnbindOk(ExchangeUnbindOk()), channel: channel)
        case .queueDeclare(let declare):
            var name = declare.queue
            if name.isEmpty {
                self.queueCounter += 1
                name = "amq.gen-null-\(self.queueCounter)"
            }
            self.send(.queueDeclareOk(QueueDeclareOk(queue: name, messageCount: 0, consumerCount: 0)), channel: channel)
        case .queueBind:
            self.send(.queueBindOk(QueueBindOk()), channel: channel)
        case .queueUnbind:
            self.send(.queueUnbindOk(QueueUnbindOk()), channel: channel)
        case .queuePurge:
            self.send(.queuePurgeOk(QueuePurgeOk(messageCount: 0)), channel: channel)
        case .queueDelete:
            self.send(.queueDeleteOk(QueueDeleteOk(messageCount: 0)), channel: channel)
        case .basicQos:
            self.send(.basicQosOk(BasicQosOk()), channel: channel)
        case .confirmSelect:
            if self.confirmSequence[channel] == nil { self.confirmSequence[channel] = 0 }
            self.send(.confirmSelectOk(ConfirmSelectOk()), channel: channel)
        case .basicConsume(let consume):
            let tag = consume.consumerTag.isEmpty ? "null.ctag-\(channel)" : consume.consumerTag
            self.send(.basicConsumeOk(BasicConsumeOk(consumerTag: tag)), channel: channel)
            self.streams[channel] = tag
            Task { await self.stream(channel: channel, tag: tag) }
        case .basicCancel(let cancel):
            if self.streams[channel] == cancel.consumerTag { self.streams[channel] = nil }
            self.send(.basicCancelOk(BasicCancelOk(consumerTag: cancel.consumerTag)), channel: channel)
        case .basicGet:
            self.send(.basicGetEmpty(BasicGetEmpty()), channel: channel)
        case .basicRecover:
            self.send(.basicRecoverOk(BasicRecoverOk()), channel: channel)
        default:
            break
        }
        return true
    }

    private func forget(_ channel: UInt16) {
        self.streams[channel] = nil
        self.confirmSequence[channel] = nil
        self.acked[channel] = nil
    }

    private func send(_ method: AMQPMethod, channel: UInt16) {
        self.out.clear()
        self.out.writeMethodFrame(channel: channel, method)
        self.out.storage.withUnsafeBytes { self.tcp.write($0) }
    }

    /// Writes blocks of deliveries while the consumer exists, waiting whenever 1 MiB is queued.
    private func stream(channel: UInt16, tag: String) async {
        var block = ByteBuffer(capacity: Self.blockSize * (64 + tag.utf8.count + self.bodySize))
        var tagOffsets: [Int] = []
        let body = [UInt8](repeating: 0, count: self.bodySize)
        for i in 0..<Self.blockSize {
            block.writeBasicDeliver(channel: channel, consumerTag: tag, deliveryTag: UInt64(i + 1), redelivered: false,
                                    exchange: "", routingKey: "null", properties: BasicProperties(), body: body,
                                    frameMax: 131_072)
            tagOffsets.append(0)
        }
        var bytes = block.storage
        // The delivery tag sits after the frame header (7), class/method (4) and the consumer tag.
        var offset = 0
        for i in 0..<Self.blockSize {
            tagOffsets[i] = offset + 7 + 4 + 1 + tag.utf8.count
            // Skip the three frames of this delivery.
            for _ in 0..<(self.bodySize > 0 ? 3 : 2) {
                let size = Int(bytes[offset + 3]) << 24 | Int(bytes[offset + 4]) << 16 | Int(bytes[offset + 5]) << 8
                    | Int(bytes[offset + 6])
                offset += size + 8
            }
        }
        var next: UInt64 = 1
        while self.streams[channel] == tag, !self.tcp.isClosed {
            if self.tcp.pendingOutboundBytes >= 1 << 20 {
                // Polled (see AMQPClientConnection.applyBackpressure for why not waitUntilWritable).
                guard (try? await self.loop.sleep(for: .microseconds(100))) != nil else { return }
                continue
            }
            bytes.withUnsafeMutableBytes { raw in
                for (i, at) in tagOffsets.enumerated() {
                    raw.storeBytes(of: (next + UInt64(i)).bigEndian, toByteOffset: at, as: UInt64.self)
                }
            }
            next += UInt64(Self.blockSize)
            bytes.withUnsafeBytes { self.tcp.write($0) }
        }
    }
}
