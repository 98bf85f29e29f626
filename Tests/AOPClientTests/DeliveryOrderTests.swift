import AOPClient
import AOPIO
import AOPWire
import Testing

/// Per consumer, deliveries reach the sequence in the order the server sent them.
@Suite struct DeliveryOrderTests {
    /// Two consumers' deliveries interleaved with methods, cut into reads at random byte offsets (frames
    /// split across reads), read slowly enough that the reader pauses for backpressure: each consumer sees
    /// its delivery tags in sending order, none lost or repeated.
    @Test func deliveriesKeepTheServersOrderPerConsumer() async throws {
        let loop = try RingLoop(name: "scripted")
        defer { loop.shutdown() }
        let server = try ScriptedServer(loop: loop)
        let serving = Task { try await server.acceptAndHandshake() }
        let connection = try await AMQPClientConnection.connect(AMQPClientConfiguration(port: server.port, heartbeat: 0))
        try await serving.value

        let scripted = Task { try await server.expectOpenAndConsume() }
        let channel = try await connection.openChannel()
        let first = try await channel.basicConsume(queue: "q", tag: "a")
        let id = try await scripted.value
        async let secondConsumed = channel.basicConsume(queue: "q", tag: "b")
        _ = try await server.nextMethod()
        await server.send(.basicConsumeOk(BasicConsumeOk(consumerTag: "b")), channel: id)
        let second = try await secondConsumed

        // Tags 1…count alternate between the consumers in runs of random length; a body is sometimes
        // split into several body frames; methods come in between.
        let count = 4000
        var random = SystemRandomNumberGenerator()
        var stream = ByteBuffer()
        var expected: [String: [UInt64]] = ["a": [], "b": []]
        var tag: UInt64 = 0
        var flows = 0
        while tag < UInt64(count) {
            let consumer = Bool.random(using: &random) ? "a" : "b"
            for _ in 0..<Int.random(in: 1...20, using: &random) where tag < UInt64(count) {
                tag += 1
                expected[consumer, default: []].append(tag)
                let body = [UInt8](repeating: UInt8(truncatingIfNeeded: tag), count: Int.random(in: 0...300, using: &random))
                stream.writeBasicDeliver(channel: id, consumerTag: consumer, deliveryTag: tag, redelivered: false,
                                         exchange: "", routingKey: "q", properties: BasicProperties(), body: body,
                                         frameMax: 128)
            }
            if Int.random(in: 0..<4, using: &random) == 0 {
                stream.writeMethodFrame(channel: id, .channelFlow(ChannelFlow(active: true)))
                flows += 1
            }
        }
        let bytes = stream.storage
        let sending = Task {
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + Int.random(in: 1...3000))
                await server.sendRaw(Array(bytes[offset..<end]))
                offset = end
                if Int.random(in: 0..<8) == 0 { try await Task.sleep(for: .milliseconds(1)) }
            }
        }
        let answering = Task {
            for _ in 0..<flows { _ = try await server.nextMethod() }  // flow-ok
        }

        func read(_ consumer: AMQPClientConsumer, _ expectedCount: Int) async throws -> [UInt64] {
            var tags: [UInt64] = []
            var deliveries = consumer.deliveries.makeAsyncIterator()
            while tags.count < expectedCount, let delivery = try await deliveries.next() {
                #expect(delivery.body.allSatisfy { $0 == UInt8(truncatingIfNeeded: delivery.deliveryTag) })
                tags.append(delivery.deliveryTag)
                if tags.count % 7 == 0 { try await Task.sleep(for: .microseconds(200)) }  // a slow reader
            }
            return tags
        }
        let expectedA = expected["a"] ?? [], expectedB = expected["b"] ?? []
        let readA = Task { try await read(first, expectedA.count) }
        let readB = Task { try await read(second, expectedB.count) }
        let tagsA = try await withDeadline(30, aborting: connection) { try await readA.value }
        let tagsB = try await withDeadline(30, aborting: connection) { try await readB.value }
        #expect(tagsA == expectedA)
        #expect(tagsB == expectedB)
        try await sending.value
        try await answering.value
        await connection.abort()
        await server.close()
    }
}
