import AOPClient
import AOPStress
import AOPWire

/// How a channel worker ended.
enum ChannelExit: Sendable {
    /// The run is over (or the connection is being ended by another channel).
    case finished
    /// The operation stream asked to close or abort the whole connection.
    case connection(ConnectionControl.End)
    /// The connection failed (server close, transport error).
    case connectionLost
}

/// One channel slot of a connection: opens a channel, runs its operation stream on it, and opens a new
/// channel (a new incarnation, a new producer) whenever the channel is closed, by itself or the server.
struct ChannelWorker {
    let context: RunContext
    let control: ConnectionControl
    let slot: Int

    func run(_ generator: inout OperationGenerator) async -> ChannelExit {
        while !self.context.expired, !self.control.isEnding {
            let channel: AMQPClientChannel
            do {
                channel = try await self.control.connection.openChannel()
            } catch {
                self.context.stats.connectionEnded("open-channel: \(error.code) \(ChannelSession.shortText(error.replyText))")
                return .connectionLost
            }
            self.context.stats.channelOpened()
            let shared = SessionShared(id: self.context.nextChannelID(), producer: self.context.nextProducerID())
            let confirmMode = generator.confirmMode()
            var session = ChannelSession(context: self.context, control: self.control, channel: channel,
                                         shared: shared, confirmMode: confirmMode,
                                         seed: self.context.options.seed ^ shared.id)
            let exit = await session.run(&generator)
            self.context.log.record(channel.unexpectedDeliveries.map {
                .unexpectedDelivery(channel: shared.id, consumerTag: $0.consumerTag, deliveryTag: $0.deliveryTag)
            })
            self.context.stats.deliveriesAfterClose(channel.deliveriesAfterClose)
            self.context.log.record(.channelEnded(shared.id))
            if let exit { return exit }
        }
        return .finished
    }
}
