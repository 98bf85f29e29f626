import AOPClient
import AOPStress
import AOPWire

/// One channel incarnation: its operation loop (this struct, one task) and its reader tasks.
struct ChannelSession {
    struct ConsumerInfo {
        var consumer: AMQPClientConsumer
        var queue: String
    }

    let context: RunContext
    let control: ConnectionControl
    let channel: AMQPClientChannel
    let shared: SessionShared
    let confirmMode: Bool
    var random: StressRandom
    var consumers: [ConsumerInfo] = []
    var consumerCount = 0
    /// Ack-mode deliveries kept for `.settle` operations.
    var held: [UInt64] = []
    /// Every ack-mode delivery tag up to this was settled by a `multiple` settlement or a recover.
    var settledUpTo: UInt64 = 0
    /// Highest ack-mode delivery tag taken from the inbox.
    var highestTag: UInt64 = 0
    var sequence: UInt64 = 0
    var publishSequence: UInt64 = 0
    /// Reader tasks started in the incarnation's group (confirms, returns, consumers).
    var readerCount = 0

    init(context: RunContext, control: ConnectionControl, channel: AMQPClientChannel, shared: SessionShared,
         confirmMode: Bool, seed: UInt64) {
        self.context = context
        self.control = control
        self.channel = channel
        self.shared = shared
        self.confirmMode = confirmMode
        self.random = StressRandom(seed: seed)
    }

    /// What one operation led to.
    enum Outcome {
        case next
        /// The channel was closed (by the operation or the server): open another.
        case channelClosed
        case exit(ChannelExit)
    }

    /// Runs operations until the channel closes (nil: open another) or the worker must stop.
    mutating func run(_ generator: inout OperationGenerator) async -> ChannelExit? {
        var confirms: AMQPClientSequence<AMQPConfirm>?
        do {
            if self.confirmMode {
                try await self.channel.confirmSelect()
                confirms = try await self.channel.confirms()
            }
        } catch {
            return self.classify(error).exitValue
        }
        let returns = self.channel.returns
        let (context, shared) = (self.context, self.shared)
        return await withTaskGroup(of: Bool.self, returning: ChannelExit?.self) { group in
            if let confirms {
                self.readerCount += 1
                group.addTask { await Self.readConfirms(confirms, shared: shared, context: context); return false }
            }
            self.readerCount += 1
            group.addTask { await Self.readReturns(returns, shared: shared, context: context); return false }
            var outcome = Outcome.next
            while case .next = outcome {
                if self.context.expired || self.control.isEnding {
                    outcome = .exit(.finished)
                    break
                }
                let operation = generator.next()
                self.context.stats.operation(operation.kind)
                if self.context.options.trace { stderr("[ch \(self.shared.id)] \(operation)\n") }
                self.control.begin(channel: self.shared.id, operation.kind)
                do throws(AMQPClientError) {
                    try await self.pump()
                    outcome = try await self.execute(operation, group: &group)
                } catch {
                    outcome = self.classify(error)
                }
                self.control.done(channel: self.shared.id)
                if self.context.options.opDelay > .zero {
                    try? await Task.sleep(for: self.context.options.opDelay)
                } else {
                    await Task.yield()
                }
            }
            switch outcome {
            case .exit(.connection(let how)):
                await self.control.end(how)
            case .exit(.finished):
                if !self.control.isEnding {
                    do throws(AMQPClientError) {
                        try await self.channel.close()
                    } catch where error.code == .channelClosedByServer || error.code == .channelClosed {
                    } catch {
                        await self.control.end(.abort)   // the readers must end
                    }
                }
            case .exit(.connectionLost), .channelClosed, .next:
                break
            }
            if self.context.options.trace { stderr("[ch \(self.shared.id)] ends: \(outcome), waiting for readers\n") }
            // The client ends every sequence when the channel closes; should one not end, do not hang on it.
            let channelID = self.shared.id
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                if !Task.isCancelled { context.stats.clientError("channel \(channelID): a reader did not end 10 s after the channel") }
                return true
            }
            var finished = 0
            while let isTimer = await group.next(), !isTimer {
                finished += 1
                if finished == self.readerCount { break }
            }
            group.cancelAll()
            await group.waitForAll()
            if self.context.options.trace { stderr("[ch \(self.shared.id)] ended\n") }
            return outcome.exitValue
        }
    }

    /// Sorts an error: channel closed (open another), connection gone, or unexpected.
    func classify(_ error: AMQPClientError) -> Outcome {
        switch error.code {
        case .channelClosedByServer:
            self.context.stats.channelError("\(error.replyCode) \(Self.shortText(error.replyText))")
            return .channelClosed
        case .channelClosed:
            return .channelClosed
        case .connectionClosed where self.control.isEnding:
            return .exit(.finished)
        default:
            self.context.stats.connectionEnded("\(error.code) \(error.replyCode) \(Self.shortText(error.replyText))")
            return .exit(.connectionLost)
        }
    }

    static func shortText(_ text: String) -> String {
        String(text.prefix { $0 != "'" && $0 != "\"" && !$0.isNumber }.prefix(60)).trimmedTail()
    }
}

extension ChannelSession.Outcome {
    var exitValue: ChannelExit? {
        switch self {
        case .exit(let exit): exit
        case .channelClosed, .next: nil
        }
    }
}

extension String {
    fileprivate func trimmedTail() -> String {
        String(self.reversed().drop(while: { $0 == " " || $0 == ":" }).reversed())
    }
}
