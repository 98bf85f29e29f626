import AOPClient
import AOPStress
import Synchronization

extension Drainer {
    /// Consumes `state.queue` on `channel` (manual ack, prefetch ``prefetch``) until it is drained: when the
    /// consumer got nothing for ``quiet`` and a passive declare shows no ready message and no other
    /// consumer, the consumer is cancelled (deliveries before its cancel-ok are still recorded and acked)
    /// and a second declare must show an empty queue with no consumer at all; otherwise it consumes again.
    static func consume(_ state: QueueDrainState, channel: AMQPClientChannel, channelID: UInt64,
                        context: RunContext, deadline: ContinuousClock.Instant) async throws(AMQPClientError) {
        try await channel.basicQos(prefetchCount: Self.prefetch)
        var round = state.readersEnded.load(ordering: .acquiring)
        while ContinuousClock.now < deadline {
            round += 1
            let consumer = try await channel.basicConsume(queue: state.queue, tag: "drain.\(channelID).\(round)")
            state.delivered(0)
            let reader = Task { [round] in
                let error = await Self.read(consumer, channel: channel, channelID: channelID, state: state,
                                            context: context)
                state.readersEnded.max(round, ordering: .releasing)
                return error
            }
            var readerEnded = false
            while ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
                if state.readersEnded.load(ordering: .acquiring) >= round { readerEnded = true; break }
                guard state.isQuiet(for: Self.quiet) else { continue }
                let declared = try await channel.queueDeclare(state.queue, passive: true)
                if state.saw(declared, ownConsumers: 1) == .empty { break }
                try? await Task.sleep(for: Self.quiet)
            }
            // Cancel even at the deadline: its cancel-ok ends the reader, after which the channel closes.
            if !readerEnded { try await consumer.cancel() }
            if let error = await reader.value { throw error }
            let declared = try await channel.queueDeclare(state.queue, passive: true)
            if state.saw(declared, ownConsumers: 0) == .empty {
                state.done.store(true, ordering: .releasing)
                return
            }
        }
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
