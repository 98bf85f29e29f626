import Synchronization
import AOPIO

/// One open channel as the connection sees it. Owned by the connection actor.
final class ChannelState {
    enum Status {
        case opening
        case open
        /// `channel.close` sent by us; waiting for `close-ok`.
        case closing
    }

    let id: UInt16
    let shared: ChannelSharedState
    var status: Status = .opening
    var rpcs: [PendingRPC] = []
    var consumers: [String: ConsumerState] = [:]
    /// The consumer of the last delivery (most reads carry one consumer's messages).
    var lastConsumer: ConsumerState?
    var confirmMode = false
    var confirms = ConfirmTracker()
    /// Nacks since the last `waitForConfirms`.
    var nackedSinceWait = false
    var confirmQueue: LoopQueue<AMQPConfirm>?
    var confirmWaiters: [(outstandingBelow: UInt64, continuation: UnsafeContinuation<Result<Void, AMQPClientError>, Never>)] = []
    /// Flow state the server set with `channel.flow`.
    var flowActive = true
    var consumerCounter = 0

    init(id: UInt16, loop: RingLoop) {
        self.id = id
        self.shared = ChannelSharedState(loop: loop)
    }

    /// The consumer registered under the tag whose bytes are `tag`, or nil.
    func consumer(tag: UnsafeRawBufferPointer) -> ConsumerState? {
        if let last = self.lastConsumer, last.tagBytes.elementsEqual(tag) { return last }
        let found = self.consumers[String(decoding: tag, as: UTF8.self)]
        if found != nil { self.lastConsumer = found }
        return found
    }

    func removeConsumer(_ tag: String) -> ConsumerState? {
        let removed = self.consumers.removeValue(forKey: tag)
        if self.lastConsumer === removed { self.lastConsumer = nil }
        return removed
    }

    /// Resumes the confirm waiters whose condition holds.
    func notifyConfirmWaiters() {
        guard !self.confirmWaiters.isEmpty else { return }
        let outstanding = self.confirms.outstanding
        var kept: [(outstandingBelow: UInt64, continuation: UnsafeContinuation<Result<Void, AMQPClientError>, Never>)] = []
        for waiter in self.confirmWaiters {
            if outstanding < waiter.outstandingBelow {
                waiter.continuation.resume(returning: .success(()))
            } else {
                kept.append(waiter)
            }
        }
        self.confirmWaiters = kept
    }

    /// Fails everything pending on the channel: it is gone (closed by either side, or its connection).
    /// A close by this client ends consumer and confirm sequences normally; others end them with `error`.
    func fail(_ error: AMQPClientError) {
        self.shared.closeError.withLock { if $0 == nil { $0 = error } }
        let sequenceError: AMQPClientError? =
            error.code == .channelClosed || error.code == .connectionClosed ? nil : error
        let rpcs = self.rpcs
        self.rpcs = []
        for rpc in rpcs { rpc.continuation.resume(returning: .failure(error)) }
        let waiters = self.confirmWaiters
        self.confirmWaiters = []
        for waiter in waiters { waiter.continuation.resume(returning: .failure(error)) }
        for consumer in self.consumers.values { consumer.queue.finish(sequenceError) }
        self.consumers = [:]
        self.lastConsumer = nil
        self.confirmQueue?.finish(sequenceError)
        self.shared.returns.finish(sequenceError)
    }
}
