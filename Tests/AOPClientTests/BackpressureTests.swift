import AOPClient
import AOPEmbedded
import Testing

@Suite struct BackpressureTests {
    /// A consumer that does not read for a while: the connection stops reading once the consumer's buffer
    /// is full, and everything arrives, in order, once the consumer reads again.
    @Test func slowConsumerGetsEverythingInOrder() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("bp.q")
            let total = 30_000
            let publisher = try await connection.openChannel()
            try await publisher.confirmSelect()
            let encoder = AMQPPublishEncoder(channel: publisher.id, exchange: "", routingKey: "bp.q",
                                             body: [UInt8](repeating: 0, count: 8), frameMax: await connection.frameMax)
            var encoded: [UInt8] = []
            for i in 0..<total { encoder.append(bodyPrefix: UInt64(i), to: &encoded) }
            try await publisher.publish(encoded: encoded, count: total)
            #expect(try await publisher.waitForConfirms())

            let consumer = try await channel.basicConsume(queue: "bp.q", noAck: true)
            try await Task.sleep(for: .milliseconds(300))  // let deliveries pile up unread
            var next: UInt64 = 0
            for try await batch in consumer.batches {
                for i in batch.indices {
                    let value = batch.withBody(at: i) { $0.loadUnaligned(as: UInt64.self) }
                    #expect(UInt64(littleEndian: value) == next)
                    next += 1
                }
                if next == UInt64(total) { break }
            }
            #expect(next == UInt64(total))
            try await consumer.cancel()
            #expect(channel.unexpectedDeliveryCount == 0)
        }
    }
}
