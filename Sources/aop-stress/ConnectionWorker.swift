import AOPClient
import AOPStress

/// One connection slot: connects, runs its channel slots, and reconnects after the connection was
/// closed, aborted or lost, until the run is over. Each channel slot keeps one seeded operation stream
/// across incarnations.
struct ConnectionWorker {
    let context: RunContext
    let index: Int

    func run() async {
        let options = self.context.options
        var weights = OperationGenerator.Weights(connectionChurn: options.connectionChurn)
        if options.channels == 1 { weights.closeChannel = 1 }
        var generators = (0..<options.channels).map {
            OperationGenerator(topology: self.context.topology, seed: options.seed, connection: self.index,
                               channel: $0, weights: weights, maxBatch: options.maxBatch)
        }
        while !self.context.expired {
            let connection: AMQPClientConnection
            do {
                connection = try await AMQPClientConnection.connect(self.context.clientConfiguration,
                                                                    on: self.context.loop(for: self.index))
                self.context.stats.connected()
            } catch {
                self.context.stats.connectFailed()
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let control = ConnectionControl(connection)
            self.context.register(control)
            defer { self.context.unregister(control) }
            let current = generators
            let watchdog = Task { await Self.watch(control, context: self.context) }
            defer { watchdog.cancel() }
            generators = await withTaskGroup(of: (Int, OperationGenerator).self) { group in
                for slot in current.indices {
                    let context = self.context
                    let start = current[slot]
                    group.addTask {
                        var generator = start
                        let exit = await ChannelWorker(context: context, control: control, slot: slot).run(&generator)
                        if case .connectionLost = exit { await control.end(.abort) }
                        return (slot, generator)
                    }
                }
                var out = current
                for await (slot, generator) in group { out[slot] = generator }
                return out
            }
            await control.end(.close)
        }
    }

    /// Aborts the connection when an operation waits longer than `operationTimeout` for the broker
    /// (a reply that never comes), and records it: the run goes on, the stall is reported.
    static func watch(_ control: ConnectionControl, context: RunContext) async {
        while !Task.isCancelled, !control.isEnding {
            try? await Task.sleep(for: .seconds(1))
            if let (channel, kind, age) = control.oldest(), age > context.options.operationTimeout {
                context.recordStall("\(kind) on channel \(channel) got no reply for \(age)")
                await control.end(.abort)
                return
            }
        }
    }
}
