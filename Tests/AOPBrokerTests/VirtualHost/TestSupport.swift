import Testing
import AOPBroker
import AOPStorage
import AOPWire
import Logging
import Synchronization

/// Collects deliveries and cancellations for one test channel.
final class TestSink: DeliverySink {
    private let state = Mutex<(deliveries: [Delivery], cancelled: [String])>(([], []))

    func deliver(_ batch: [Delivery]) { self.state.withLock { $0.deliveries += batch } }
    func consumerCancelled(tag: String) { self.state.withLock { $0.cancelled.append(tag) } }

    var deliveries: [Delivery] { self.state.withLock { $0.deliveries } }
    var cancelled: [String] { self.state.withLock { $0.cancelled } }
    var bodies: [String] { self.deliveries.map { String(decoding: $0.message.body, as: UTF8.self) } }

    /// Waits (up to ~3 s) until at least `count` deliveries arrived.
    @discardableResult
    func wait(for count: Int) async -> [Delivery] {
        await waitUntil { self.deliveries.count >= count }
        return self.deliveries
    }
}

/// Polls `condition` every 5 ms for up to ~3 s.
func waitUntil(_ condition: () async -> Bool) async {
    for _ in 0..<600 {
        if await condition() { return }
        try? await Task.sleep(for: .milliseconds(5))
    }
}

func makeVHost(_ storage: InMemoryStorageEngine = InMemoryStorageEngine()) async throws -> VirtualHost {
    let vhost = VirtualHost(name: "/", storage: storage, logger: Logger(label: "test"))
    try await vhost.start()
    return vhost
}

func message(_ body: String, key: String = "", exchange: String = "", persistent: Bool = false,
             headers: FieldTable? = nil, priority: UInt8? = nil, expiration: String? = nil) -> PublishRequest {
    PublishRequest(
        message: Message(exchange: exchange, routingKey: key,
                         properties: BasicProperties(headers: headers, deliveryMode: persistent ? 2 : 1,
                                                     priority: priority, expiration: expiration),
                         body: Array(body.utf8)),
        mandatory: false)
}

extension VirtualHost {
    @discardableResult
    func declare(_ queue: String, durable: Bool = false, exclusive: Bool = false, autoDelete: Bool = false,
                 arguments: FieldTable = [:], connection: UInt64 = 1) async throws -> QueueDeclareResult {
        try await self.declareQueue(name: queue, passive: false, durable: durable, exclusive: exclusive,
                                    autoDelete: autoDelete, arguments: arguments, connectionID: connection)
    }

    func declareExchange(_ name: String, _ type: String, durable: Bool = false, autoDelete: Bool = false,
                         internal: Bool = false, arguments: FieldTable = [:]) async throws {
        try await self.declareExchange(name: name, type: type, passive: false, durable: durable,
                                       autoDelete: autoDelete, internal: `internal`, arguments: arguments)
    }

    func bind(_ queue: String, _ exchange: String, _ key: String = "", arguments: FieldTable = [:]) async throws {
        try await self.bindQueue(queue: queue, exchange: exchange, routingKey: key, arguments: arguments,
                                 connectionID: 1)
    }

    @discardableResult
    func send(_ exchange: String, _ requests: [PublishRequest]) async throws -> [PublishOutcome] {
        try await self.publish(exchange: exchange, requests)
    }

    /// Drains a queue with basic.get (auto-ack), returning the bodies in order.
    func drain(_ queue: String) async throws -> [String] {
        let q = try await self.queue(named: queue, connectionID: 1)
        var out: [String] = []
        while let d = try await q.get(noAck: true) { out.append(String(decoding: d.message.body, as: UTF8.self)) }
        return out
    }

    func messageCount(_ queue: String) async throws -> UInt32 {
        try await self.declareQueue(name: queue, passive: true, durable: false, exclusive: false, autoDelete: false,
                                    arguments: [:], connectionID: 1).messageCount
    }
}

func consumer(_ tag: String, sink: TestSink, prefetch: UInt32 = 0, noAck: Bool = false, exclusive: Bool = false,
              priority: Int32 = 0, connection: UInt64 = 1) -> ConsumerRegistration {
    ConsumerRegistration(tag: tag, connectionID: connection, noAck: noAck, exclusive: exclusive, priority: priority,
                         arguments: [:], credit: CreditGate(consumerLimit: prefetch, channel: nil, unlimited: noAck),
                         sink: sink)
}

/// Expects an AMQP error with this reply code from `body`; returns it.
@discardableResult
func expectError(_ code: UInt16, _ body: () async throws -> Void) async -> AMQPError? {
    do {
        try await body()
    } catch let e as AMQPError {
        if e.code.replyCode != code { Issue.record("expected \(code), got \(e)") }
        return e
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
    Issue.record("expected error \(code), got success")
    return nil
}
