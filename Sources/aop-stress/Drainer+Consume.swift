import AOPClient
import AOPStress
import Synchronization

extension Drainer {
    /// Consumes `state.queue` on `connection` (manual ack, prefetch ``prefetch``) until it is drained: when
    /// the consumer got nothing for ``quiet`` and a passive declare shows no ready message and no other
    /// consumer, the consumer is cancelled (deliveries before its cancel-ok are still recorded and acked) and
    /// its channel closed (whatever the broker counted as delivered but never sent goes back to the queue);
    /// then, on a fresh channel, the queue must show no message and no consumer twice, ``settle`` apart
    /// (requeues of connections the broker is still closing); otherwise it consumes again.
    static func consume(_ state: QueueDrainState, connection: AMQPClientConnection, context: RunContext,
                        deadline: ContinuousClock.Instant) async throws(AMQPClientError) {
        var channel = try await connection.openChannel()
        while ContinuousClock.now < deadline {
            let channelID = context.nextChannelID()
            do throws(AMQPClientError) {
                try await Self.consumeOnce(state, channel: channel, channelID: channelID, context: context,
                                           deadline: deadline)
                try await channel.close()
                context.log.record(.channelEnded(channelID))
            } catch {
                context.log.record(.channelEnded(channelID))
                throw error
            }
            channel = try await connection.openChannel()
            if state.saw(try await channel.queueDeclare(state.queue, passive: true), ownConsumers: 0) == .empty {
                try? await Task.sleep(for: Self.settle)
                if state.saw(try await channel.queueDeclare(state.queue, passive: true), ownConsumers: 0) == .empty {
                    state.done.store(true, ordering: .releasing)
                    break
                }
            }
        }
        try await channel.close()
    }

    /// One consumer on `channel`, until the queue looks empty (or the deadline), then its cancel-ok.
    static func consumeOnce(_ state: QueueDrainState, channel: AMQPClientChannel, channelID: UInt64,
                            context: RunContext, deadline: ContinuousClock.Instant) async throws(AMQPClientError) {
        let consumer: AMQPClientConsumer
        do throws(AMQPClientError) {
            try await channel.basicQos(prefetchCount: Self.prefetch)
            consumer = try await channel.basicConsume(queue: state.queue, tag: "drain.\(channelID)")
        } catch {
            if error.code == .channelClosedByServer { state.consumeRefused.store(true, ordering: .releasing) }
            throw error
        }
        state.delivered(0)
        let done = ReaderEnd()
        let reader = Task {
            let error = await Self.read(consumer, channel: channel, channelID: channelID, state: state,
                                        context: context)
            done.flag.store(true, ordering: .releasing)
            return error
        }
        while ContinuousClock.now < deadline, !done.flag.load(ordering: .acquiring) {
            try? await Task.sleep(for: .milliseconds(50))
            guard state.isQuiet(for: Self.quiet) else { continue }
            let declared = try await channel.queueDeclare(state.queue, passive: true)
            if state.saw(declared, ownConsumers: 1) == .empty { break }
            try? await Task.sleep(for: Self.quiet)
        }
        // Cancel even at the deadline: its cancel-ok ends the reader, after which the channel closes.
        if !done.flag.load(ordering: .acquiring) { try await consumer.cancel() }
        if let error = await reader.value { throw error }
    }

    /// Set when a drain consumer's reader ended.
    final class ReaderEnd: Sendable {
        let flag = Atomic<Bool>(false)
    }

    /// Records every delivery batch of the drain's consumer and acks it with one multiple ack.
    /// - Returns: the error that ended the consumer, nil at its cancel-ok.
    static func read(_ consumer: AMQPClientConsumer, channel: AMQPClientChannel, channelID: UInt64,
                     state: QueueDrainState, context: RunContext) async -> AMQPClientError? {
        var lastTag: UInt64 = 0
        do throws(AMQPClientError) {
            for try await batch in consumer.batches {
                var events: [StressEvent] = []
                events.reserveCapacity(batch.count)
                for index in batch.indices {
                    let tag = batch.deliveryTag(at: index)
                    if tag <= lastTag {
                        context.stats.clientError("drain consumer \(consumer.tag): delivery tag \(tag) after \(lastTag)")
                    }
                    lastTag = max(lastTag, tag)
                    let body = batch.withBody(at: index) { Array($0) }
                    events.append(context.deliveryEvent(body: body, queue: state.queue, channel: channelID,
                                                        consumerTag: consumer.tag, deliveryTag: tag,
                                                        redelivered: batch.redelivered(at: index), drain: true).0)
                }
                context.log.record(events)
                state.delivered(batch.count)
                if let last = batch.lastDeliveryTag { try await channel.basicAck(deliveryTag: last, multiple: true) }
            }
            return nil
        } catch {
            return error
        }
    }
}
