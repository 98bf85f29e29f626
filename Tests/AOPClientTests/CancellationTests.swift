import AOPClient
import AOPEmbedded
import Testing

@Suite struct CancellationTests {
    /// Cancelling the task that waits for deliveries ends its iteration (next returns nil); the consumer
    /// itself stays and can be cancelled afterwards.
    @Test func cancellingAWaitingIteratorEndsIt() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("cancel.q")
            let consumer = try await channel.basicConsume(queue: "cancel.q", noAck: true)
            let waiting = Task { () -> Int in
                var count = 0
                for try await _ in consumer.deliveries { count += 1 }
                return count
            }
            try await Task.sleep(for: .milliseconds(50))
            waiting.cancel()
            #expect(try await waiting.value == 0)
            try await consumer.cancel()
        }
    }
}
