// The broker's transient hot path in process, without sockets: decode basic.publish frames → route
// (VirtualHost.publish) → enqueue (in-memory message and index topics) → dispatch to a consumer →
// encode basic.deliver frames. Gate on mallocs per message (DESIGN.md §9), not on seconds. From Benchmarks/:
//   swift package benchmark --target HotPathBenchmarks
//   swift package benchmark thresholds check --target HotPathBenchmarks --metric mallocCountTotal
//   swift package --allow-writing-to-package-directory benchmark thresholds update \
//       --target HotPathBenchmarks --metric mallocCountTotal           (after an intended change)
// Results are scaled (`.kilo`): the figures read per message; Thresholds/ holds them ×1000 (p90).

import AOPBroker
import AOPStorage
import AOPWire
import Benchmark
import Logging
import Synchronization

/// Messages per measured iteration (one publish batch, as one socket read of a fast publisher gives).
private let messagesPerIteration = 1000
private let frameMax: UInt32 = 131_072

/// `count` × (basic.publish + content header + body) in one buffer, as a publisher's socket delivers them.
private func publishStream(exchange: String, routingKey: String, bodySize: Int) -> ByteBuffer {
    let publish = AMQPMethod.basicPublish(BasicPublish(exchange: exchange, routingKey: routingKey))
    let properties = BasicProperties(deliveryMode: 1)
    let body = [UInt8](repeating: 0x61, count: bodySize)
    var buffer = ByteBuffer(capacity: messagesPerIteration * (bodySize + 100))
    for _ in 0..<messagesPerIteration {
        buffer.writeMethodFrame(channel: 1, publish)
        buffer.writeContent(channel: 1, properties: properties, body: body, frameMax: frameMax)
    }
    return buffer
}

/// A consumer's channel as the connection implements it, reduced to the work per delivery: encode
/// basic.deliver + header + body into an output buffer. Wakes the benchmark when `expected` arrived.
private final class EncodingSink: DeliverySink {
    struct State {
        var out = ByteBuffer(capacity: 4 << 20)
        var delivered = 0
        var expected = Int.max
        var waiter: CheckedContinuation<Void, Never>?
        var nextTag: UInt64 = 1
    }
    let state = Mutex(State())

    func deliver(_ batch: [Delivery]) {
        let waiter = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
            for d in batch {
                let m = d.message
                s.out.writeBasicDeliver(channel: 1, consumerTag: d.consumerTag, deliveryTag: s.nextTag,
                                       redelivered: d.redelivered, exchange: m.exchange, routingKey: m.routingKey,
                                       properties: m.properties, body: m.body, frameMax: frameMax)
                s.nextTag += 1
            }
            s.out.clear()   // the socket would take it here
            s.delivered += batch.count
            guard s.delivered >= s.expected, let w = s.waiter else { return nil }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }

    func consumerCancelled(tag: String) {}

    /// Waits until `total` deliveries have arrived since the sink was created.
    func wait(forTotal total: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = self.state.withLock { s -> Bool in
                if s.delivered >= total { return true }
                s.expected = total
                s.waiter = c
                return false
            }
            if ready { c.resume() }
        }
    }
}

/// A vhost on in-memory storage with `queues` queues, each with one no-ack consumer; `exchange` routes
/// every publish (with `routingKey`) to all of them.
private func makeBroker(queues: Int, exchange: String, type: String) async throws -> (VirtualHost, [EncodingSink]) {
    let vhost = VirtualHost(name: "/", storage: InMemoryStorageEngine(), logger: Logger(label: "bench"))
    try await vhost.start()
    if !exchange.isEmpty {
        try await vhost.declareExchange(name: exchange, type: type, passive: false, durable: false, autoDelete: false,
                                        internal: false, arguments: [:])
    }
    var sinks: [EncodingSink] = []
    for q in 0..<queues {
        let name = "hot-path-transient-\(q)"
        _ = try await vhost.declareQueue(name: name, passive: false, durable: false, exclusive: false,
                                         autoDelete: false, arguments: [:], connectionID: 1)
        if !exchange.isEmpty {
            try await vhost.bindQueue(queue: name, exchange: exchange, routingKey: "", arguments: [:], connectionID: 1)
        }
        let sink = EncodingSink()
        let queue = try await vhost.queue(named: name, connectionID: 1)
        try await queue.consume(ConsumerRegistration(
            tag: "amq.ctag-hot-path-consumer-\(q)", connectionID: 1, noAck: true, exclusive: false, priority: 0,
            arguments: [:], credit: CreditGate(consumerLimit: 0, channel: nil, unlimited: true), sink: sink))
        sinks.append(sink)
    }
    return (vhost, sinks)
}

/// Decodes one stream of publishes into the batch a connection hands to its vhost, as the connection
/// does: whole publishes read in one pass (`FrameDecoder.scanPublish`), the frame-by-frame decoder and
/// assembler only for what that leaves (nothing, for this stream).
private func decode(_ stream: ByteBuffer) -> [PublishRequest] {
    var decoder = FrameDecoder(maxFrameSize: frameMax)
    var assembler = CommandAssembler(maxBodySize: 128 << 20)
    var buffer = stream   // shares storage; only the reader index moves
    var batch: [PublishRequest] = []
    batch.reserveCapacity(messagesPerIteration)
    do {
        while buffer.readableBytes > 0 {
            if let p = decoder.scanPublish(buffer, maxBodySize: assembler.maxBodySize) {
                buffer.moveReaderIndex(forwardBy: p.byteCount)
                batch.append(PublishRequest(
                    message: Message(exchange: p.publish.exchange, routingKey: p.publish.routingKey,
                                     properties: p.properties, body: p.body),
                    mandatory: p.publish.mandatory))
                continue
            }
            guard let frame = try decoder.next(from: &buffer) else { break }
            if case .content(.basicPublish(let p), let header, let body) = try assembler.process(frame) {
                batch.append(PublishRequest(
                    message: Message(exchange: p.exchange, routingKey: p.routingKey, properties: header.properties,
                                     body: body),
                    mandatory: p.mandatory))
            }
        }
    } catch {
        fatalError("decode failed: \(error)")
    }
    precondition(batch.count == messagesPerIteration)
    return batch
}

/// One benchmark: per iteration, decode 1000 publishes, publish them as one batch, wait until every
/// consumer has encoded its deliveries.
private func hotPath(_ name: String, queues: Int, exchange: String, type: String, routingKey: String, bodySize: Int) {
    let stream = publishStream(exchange: exchange, routingKey: routingKey, bodySize: bodySize)
    Benchmark(name) { benchmark in
        let (vhost, sinks) = try await makeBroker(queues: queues, exchange: exchange, type: type)
        var total = 0
        // Warm-up: topics, windows and buffers reach their steady size before measuring.
        for _ in 0..<3 {
            _ = try await vhost.publish(exchange: exchange, decode(stream))
            total += messagesPerIteration
            for sink in sinks { await sink.wait(forTotal: total) }
        }
        benchmark.startMeasurement()
        for _ in 0..<benchmark.scaledIterations.count / messagesPerIteration {
            let outcomes = try await vhost.publish(exchange: exchange, decode(stream))
            precondition(outcomes.allSatisfy { $0 == .routed })
            total += messagesPerIteration
            for sink in sinks { await sink.wait(forTotal: total) }
        }
        benchmark.stopMeasurement()
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )
    // (a) 1 → 1 → 1, 16 B, default exchange (routing key = queue name, as clients do).
    hotPath("Transient16B.direct", queues: 1, exchange: "", type: "direct", routingKey: "hot-path-transient-0", bodySize: 16)
    // (d) fanout to 10 queues with 10 consumers, 256 B: per publish, 10 deliveries.
    hotPath("Transient256B.fanout10", queues: 10, exchange: "hot-path-fanout", type: "fanout", routingKey: "",
            bodySize: 256)
}
