import AOPClient
import AOPStress
import Synchronization

extension Drainer {
    /// The fallback when the broker refuses the drain's consumer: reads `state.queue` with basic.get
    /// (acking every 16 and at the end of each pass) until it reports no message and no consumer.
    static func get(_ state: QueueDrainState, channel: AMQPClientChannel, channelID: UInt64,
                    context: RunContext, deadline: ContinuousClock.Instant) async throws(AMQPClientError) {
        while ContinuousClock.now < deadline {
            var lastTag: UInt64 = 0
            while ContinuousClock.now < deadline, let delivery = try await channel.basicGet(queue: state.queue) {
                state.delivered(1)
                context.recordDelivery(body: delivery.body, queue: state.queue, channel: channelID,
                                       consumerTag: nil, deliveryTag: delivery.deliveryTag,
                                       redelivered: delivery.redelivered, drain: true)
                lastTag = delivery.deliveryTag
                if lastTag % 16 == 0 { try await channel.basicAck(deliveryTag: lastTag, multiple: true) }
            }
            if lastTag > 0 { try await channel.basicAck(deliveryTag: lastTag, multiple: true) }
            let declared = try await channel.queueDeclare(state.queue, passive: true)
            let verdict = state.saw(declared, ownConsumers: 0)
            if lastTag == 0, verdict == .empty {
                state.done.store(true, ordering: .releasing)
                return
            }
            if lastTag == 0 { try? await Task.sleep(for: .milliseconds(200)) }
        }
    }
}
