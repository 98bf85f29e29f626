import AOPClient
import AOPStress

/// After the workers stopped: reads every stable queue empty with basic.get (acking what it got), so the
/// loss check sees what was left; then deletes the run's queues and exchanges.
struct Drainer {
    let context: RunContext

    /// Drains each stable queue until it reports no message and no consumer (requeues of closed
    /// channels may still be arriving), reconnecting after failures (socket faults), until `timeout`.
    /// - Returns: false when it ran out of time.
    func drain(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        var remaining = self.context.topology.stableQueues
        var lastSeen: [String: (UInt32, UInt32)] = [:]   // last passive declare: ready, consumers
        while !remaining.isEmpty, ContinuousClock.now < deadline {
            var opened: AMQPClientConnection?
            do {
                let connection = try await AMQPClientConnection.connect(self.context.clientConfiguration,
                                                                        on: self.context.loop(for: 0))
                opened = connection
                let channel = try await connection.openChannel()
                let channelID = self.context.nextChannelID()
                while let queue = remaining.first, ContinuousClock.now < deadline {
                    var lastTag: UInt64 = 0
                    while let delivery = try await channel.basicGet(queue: queue) {
                        self.context.recordDelivery(body: delivery.body, queue: queue, channel: channelID,
                                                    consumerTag: nil, deliveryTag: delivery.deliveryTag,
                                                    redelivered: delivery.redelivered, drain: true)
                        lastTag = delivery.deliveryTag
                        if lastTag % 16 == 0 { try await channel.basicAck(deliveryTag: lastTag, multiple: true) }
                    }
                    if lastTag > 0 { try await channel.basicAck(deliveryTag: lastTag, multiple: true) }
                    let state = try await channel.queueDeclare(queue, passive: true)
                    lastSeen[queue] = (state.messageCount, state.consumerCount)
                    if state.messageCount == 0, state.consumerCount == 0, lastTag == 0 {
                        remaining.removeFirst()
                    } else if lastTag == 0 {
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
                try await channel.close()
                self.context.log.record(.channelEnded(channelID))
                try await connection.close()
            } catch {
                if let opened { await opened.abort() }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        if !remaining.isEmpty {
            for queue in remaining {
                let state = lastSeen[queue].map { "\($0.0) ready, \($0.1) consumers" } ?? "never reached"
                stderr("aop-stress: drain of \(queue) timed out: \(state)\n")
            }
        }
        return remaining.isEmpty
    }

    /// Deletes the run's queues and exchanges (best effort, retried after failures).
    func cleanUp() async {
        let topology = self.context.topology
        for _ in 0..<10 {
            do {
                let connection = try await AMQPClientConnection.connect(self.context.clientConfiguration,
                                                                        on: self.context.loop(for: 0))
                var channel = try await connection.openChannel()
                let queues = topology.stableQueues + (0..<topology.churnQueueCount).map(topology.churnQueue)
                let exchanges = topology.stableExchanges.map(\.name)
                    + (0..<topology.churnExchangeCount).map(topology.churnExchange)
                for queue in queues {
                    do throws(AMQPClientError) { _ = try await channel.queueDelete(queue) } catch where error.code == .channelClosedByServer {
                        channel = try await connection.openChannel()
                    }
                }
                for exchange in exchanges {
                    do throws(AMQPClientError) { try await channel.exchangeDelete(exchange) } catch where error.code == .channelClosedByServer {
                        channel = try await connection.openChannel()
                    }
                }
                try await connection.close()
                return
            } catch {
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
