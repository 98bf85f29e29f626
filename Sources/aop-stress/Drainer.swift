import AOPClient
import Synchronization
import AOPStress

/// After the workers stopped: reads every stable queue empty with basic.get (acking what it got), so the
/// loss check sees what was left; then deletes the run's queues and exchanges.
struct Drainer {
    let context: RunContext

    /// Shared by the drain loop and its attempts (an attempt that hangs in a client call is abandoned).
    final class DrainState: Sendable {
        let remaining: Mutex<[String]>
        let lastSeen = Mutex<[String: (UInt32, UInt32)]>([:])   // last passive declare: ready, consumers
        let progress = Mutex(ContinuousClock.now)
        let connection = Mutex<AMQPClientConnection?>(nil)
        init(_ queues: [String]) { self.remaining = Mutex(queues) }
        func advanced() { self.progress.withLock { $0 = .now } }
        var idle: Duration { ContinuousClock.now - self.progress.withLock { $0 } }
        var isEmpty: Bool { self.remaining.withLock { $0.isEmpty } }
    }

    /// Drains each stable queue until it reports no message and no consumer (requeues of closed
    /// channels may still be arriving), reconnecting after failures (socket faults) and abandoning an
    /// attempt that makes no progress for `--operation-timeout`, until `timeout`.
    /// - Returns: the queues it could not empty, with their last state ("3 ready, 1 consumers").
    func drain(timeout: Duration) async -> [String: String] {
        let deadline = ContinuousClock.now + timeout
        let state = DrainState(self.context.topology.stableQueues)
        while !state.isEmpty, ContinuousClock.now < deadline {
            state.advanced()
            let context = self.context
            let attempt = Task { await Self.attempt(state, context: context, deadline: deadline) }
            while !Task.isCancelled {
                if await StressRun.finished(attempt, within: .milliseconds(200)) { break }
                if state.idle > self.context.options.operationTimeout || ContinuousClock.now >= deadline {
                    self.context.stats.clientError("drain: no progress for \(state.idle), connection aborted")
                    if let connection = state.connection.withLock({ $0 }) { await connection.abort() }
                    break
                }
            }
        }
        var left: [String: String] = [:]
        let seen = state.lastSeen.withLock { $0 }
        for queue in state.remaining.withLock({ $0 }) {
            let text = seen[queue].map { "\($0.0) ready, \($0.1) consumers" } ?? "never reached"
            stderr("aop-stress: drain of \(queue) timed out: \(text)\n")
            left[queue] = text
        }
        return left
    }

    /// One connection's worth of draining.
    static func attempt(_ state: DrainState, context: RunContext, deadline: ContinuousClock.Instant) async {
        var opened: AMQPClientConnection?
        do {
            let connection = try await AMQPClientConnection.connect(context.clientConfiguration, on: context.loop(for: 0))
            opened = connection
            state.connection.withLock { $0 = connection }
            let channel = try await connection.openChannel()
            let channelID = context.nextChannelID()
            // Round robin over the queues left, so that one that cannot be emptied (a consumer that
            // outlived its connection) does not keep the others from being drained.
            while !state.isEmpty, ContinuousClock.now < deadline {
                let queues = state.remaining.withLock { $0 }
                var allWaiting = true
                for queue in queues where ContinuousClock.now < deadline {
                    var lastTag: UInt64 = 0
                    while let delivery = try await channel.basicGet(queue: queue) {
                        state.advanced()
                        context.recordDelivery(body: delivery.body, queue: queue, channel: channelID,
                                               consumerTag: nil, deliveryTag: delivery.deliveryTag,
                                               redelivered: delivery.redelivered, drain: true)
                        lastTag = delivery.deliveryTag
                        if lastTag % 16 == 0 { try await channel.basicAck(deliveryTag: lastTag, multiple: true) }
                    }
                    if lastTag > 0 { try await channel.basicAck(deliveryTag: lastTag, multiple: true) }
                    let declared = try await channel.queueDeclare(queue, passive: true)
                    state.advanced()
                    state.lastSeen.withLock { $0[queue] = (declared.messageCount, declared.consumerCount) }
                    if declared.messageCount == 0, declared.consumerCount == 0, lastTag == 0 {
                        state.remaining.withLock { $0.removeAll { $0 == queue } }
                    } else if lastTag > 0 {
                        allWaiting = false
                    }
                }
                if allWaiting, !state.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
            }
            try await channel.close()
            context.log.record(.channelEnded(channelID))
            try await connection.close()
        } catch {
            if let opened { await opened.abort() }
            try? await Task.sleep(for: .milliseconds(200))
        }
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
