import AOPClient
import Synchronization
import AOPStress

/// After the workers stopped: consumes every stable queue empty (all queues at once, one connection and
/// channel each, acking each delivery batch with one multiple ack), recording every delivery, so the loss
/// check sees what was left; then deletes the run's queues and exchanges.
struct Drainer {
    let context: RunContext

    /// Prefetch of the drain's consumers.
    static let prefetch: UInt16 = 2000
    /// A consumer that got nothing for this long asks whether its queue is empty.
    static let quiet: Duration = .milliseconds(300)
    /// How long a queue must stay empty, with no consumer, to count as drained.
    static let settle: Duration = .seconds(1)

    /// Drains each stable queue until it reports no message and no consumer (requeues of closed
    /// channels may still be arriving), reconnecting after failures (socket faults) and abandoning an
    /// attempt that makes no progress for `--operation-timeout`, until `timeout`. Prints the progress
    /// (messages, rate) every 10 s and at the end.
    func drain(timeout: Duration) async -> DrainOutcome {
        let started = ContinuousClock.now
        let deadline = started + timeout
        let states = self.context.topology.stableQueues.map(QueueDrainState.init)
        let context = self.context
        func total() -> Int { states.reduce(0) { $0 + $1.messages.load(ordering: .relaxed) } }
        func line(_ messages: Int) -> String {
            let elapsed = ContinuousClock.now - started
            let rate = Int(DrainCheck.rate(messages: messages, elapsed: elapsed))
            let left = states.filter { !$0.done.load(ordering: .relaxed) }.count
            return "aop-stress: drain: \(messages) messages in \(Int(elapsed / .seconds(1))) s (\(rate)/s), "
                + "\(left) of \(states.count) queues left\n"
        }
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                if Task.isCancelled { break }
                stderr(line(total()))
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for (index, state) in states.enumerated() {
                group.addTask { await Self.drain(state, index: index, context: context, deadline: deadline) }
            }
        }
        reporter.cancel()
        let messages = total()
        stderr(line(messages))
        var left: [String: String] = [:]
        for state in states where !state.done.load(ordering: .relaxed) {
            let text = state.lastSeen.withLock { $0 }.map { "\($0.ready) ready, \($0.consumers) consumers" }
                ?? "never reached"
            stderr("aop-stress: drain of \(state.queue) timed out: \(text)\n")
            left[state.queue] = text
        }
        return DrainOutcome(notDrained: left, messages: messages, elapsed: ContinuousClock.now - started)
    }

    /// One queue's attempts until it is drained or the deadline passes.
    static func drain(_ state: QueueDrainState, index: Int, context: RunContext,
                      deadline: ContinuousClock.Instant) async {
        var number = 0
        while !state.done.load(ordering: .relaxed), ContinuousClock.now < deadline {
            number += 1
            state.advanced()
            let attempt = number
            Task {
                await Self.attempt(state, index: index, context: context, deadline: deadline)
                state.attemptsEnded.max(attempt, ordering: .releasing)
            }
            while state.attemptsEnded.load(ordering: .acquiring) < attempt {
                try? await Task.sleep(for: .milliseconds(100))
                if state.idle > context.options.operationTimeout || ContinuousClock.now >= deadline {
                    context.stats.clientError("drain of \(state.queue): no progress for \(state.idle), connection aborted")
                    if let connection = state.connection.withLock({ $0 }) { await connection.abort() }
                    break
                }
            }
        }
    }

    /// One connection's worth of draining one queue: a consumer, or basic.get when consuming is refused.
    static func attempt(_ state: QueueDrainState, index: Int, context: RunContext,
                        deadline: ContinuousClock.Instant) async {
        var opened: AMQPClientConnection?
        do {
            let connection = try await AMQPClientConnection.connect(context.clientConfiguration,
                                                                    on: context.loop(for: index))
            opened = connection
            state.connection.withLock { $0 = connection }
            state.advanced()
            state.consumeRefused.store(false, ordering: .releasing)
            do throws(AMQPClientError) {
                try await Self.consume(state, connection: connection, context: context, deadline: deadline)
            } catch where error.code == .channelClosedByServer && state.consumeRefused.load(ordering: .acquiring) {
                // The broker refused the consumer: basic.get still reads the queue (e.g. past an exclusive
                // consumer that outlived its connection). Other errors end the attempt (a new one consumes).
                context.stats.clientError("drain of \(state.queue): consuming failed (\(error)), using basic.get")
                let channel = try await connection.openChannel()
                let channelID = context.nextChannelID()
                try await Self.get(state, channel: channel, channelID: channelID, context: context,
                                   deadline: deadline)
                try await channel.close()
                context.log.record(.channelEnded(channelID))
            }
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
