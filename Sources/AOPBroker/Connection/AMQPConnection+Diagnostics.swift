import AOPIO
import AOPWire

/// What a connection is doing, for reports about connections that do not finish (shutdown timeout,
/// SIGUSR1 dumps of aop-server).
extension AMQPConnection {
    /// One line: id, peer, state flags, current activity, channels with their consumers and unacked
    /// counts, and the publish pipeline.
    func diagnostics() -> String {
        var channelParts: [String] = []
        for (id, channel) in self.channels.sorted(by: { $0.key < $1.key }) {
            let tags = channel.consumers.keys.sorted().joined(separator: ",")
            channelParts.append("\(id)[\(channel.state == .open ? "open" : "closing")\(channel.released ? ",released" : "")"
                + " consumers=\(channel.consumers.count)(\(tags)) unacked=\(channel.unacked.count)"
                + " held=\(channel.heldDeliveries.count)]")
        }
        return "connection \(self.id) \(self.socket.remoteAddress): closed=\(self.closed)"
            + " machineClosing=\(self.machine.isClosing) activity='\(self.activity)' draining=\(self.draining)"
            + " methodInFlight=\(self.methodInFlight) publishWorker=\(self.publishWorkerRunning)('\(self.publishWorkerPhase)',"
            + " wakeup=\(self.publishWorkerWakeup != nil))"
            + " publishQueued=\(self.publishQueuedCount)/\(self.publishQueuedBytes)B batchesInFlight=\(self.publishBatchesInFlight)"
            + " perChannel=\(self.publishesPerChannel) pendingOut=\(self.socket.pendingOutboundBytes)"
            + " channels: \(channelParts.joined(separator: " "))"
    }
}
