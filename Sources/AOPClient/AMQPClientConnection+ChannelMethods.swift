import Synchronization
import AOPIO
import AOPWire

extension AMQPClientConnection {
    /// Handles a method (without content) the server sent on an open channel.
    func handleChannelMethod(_ method: AMQPMethod, channel id: UInt16) throws(AMQPClientError) {
        guard let channel = self.channels[id] else {
            // A reply racing our own close, or a close-ok for a channel already failed: nothing waits.
            if case .channelClose = method { self.send(.channelCloseOk(ChannelCloseOk()), channel: id) }
            return
        }
        switch method {
        case .channelClose(let close):
            self.send(.channelCloseOk(ChannelCloseOk()), channel: id)
            self.channels[id] = nil
            self.closedChannels[id] = channel.shared
            let code: AMQPClientError.Code = channel.status == .closing ? .channelClosed : .channelClosedByServer
            channel.fail(AMQPClientError(code, replyCode: close.replyCode, close.replyText,
                                         classID: close.classID, methodID: close.methodID))
        case .channelCloseOk where channel.status == .closing:
            self.channels[id] = nil
            self.closedChannels[id] = channel.shared
            try self.completeRPC(channel: channel, classID: 20, methodID: 41, reply: .method(method))
            channel.fail(AMQPClientError(.channelClosed, "channel \(id) closed by client"))
        case .channelFlow(let flow):
            channel.flowActive = flow.active
            self.send(.channelFlowOk(ChannelFlowOk(active: flow.active)), channel: id)
        case .basicCancel(let cancel):
            // The server cancelled the consumer (its queue was deleted, …): its sequence ends.
            if let consumer = channel.removeConsumer(cancel.consumerTag) { consumer.queue.finish(nil) }
            if !cancel.noWait { self.send(.basicCancelOk(BasicCancelOk(consumerTag: cancel.consumerTag)), channel: id) }
        case .basicCancelOk(let ok):
            // From here on a delivery for this tag is unexpected.
            if let consumer = channel.removeConsumer(ok.consumerTag) { consumer.queue.finish(nil) }
            try self.completeRPC(channel: channel, classID: 60, methodID: 31, reply: .method(method))
        default:
            try self.completeRPC(channel: channel, classID: method.classID, methodID: method.methodID, reply: .method(method))
        }
    }

    /// Resumes the oldest request on the channel with its reply.
    func completeRPC(channel: ChannelState, classID: UInt16, methodID: UInt16, reply: RPCReply) throws(AMQPClientError) {
        guard !channel.rpcs.isEmpty else {
            throw .protocolViolation("unexpected method \(classID).\(methodID) on channel \(channel.id)")
        }
        let rpc = channel.rpcs.removeFirst()
        guard rpc.replies.contains(where: { $0 == (classID, methodID) }) else {
            rpc.continuation.resume(returning: .failure(.protocolViolation(
                "reply \(classID).\(methodID) does not answer the request on channel \(channel.id)")))
            throw .protocolViolation("unexpected method \(classID).\(methodID) on channel \(channel.id)")
        }
        rpc.continuation.resume(returning: .success(reply))
    }

    /// Applies a publisher confirm.
    func confirm(channel id: UInt16, deliveryTag: UInt64, multiple: Bool, ack: Bool) {
        guard let channel = self.channels[id], channel.confirmMode else { return }
        channel.confirms.settle(deliveryTag: deliveryTag, multiple: multiple, ack: ack)
        if !ack { channel.nackedSinceWait = true }
        channel.confirmQueue?.push(AMQPConfirm(deliveryTag: deliveryTag, multiple: multiple, ack: ack))
        channel.notifyConfirmWaiters()
    }

    /// The state of the channel behind `handle` if it is usable, else the error that closed it.
    func usableChannel(_ handle: AMQPClientChannel) throws(AMQPClientError) -> ChannelState {
        if let channel = self.channels[handle.id], channel.shared === handle.shared, channel.status == .open {
            return channel
        }
        if let error = handle.shared.closeError.withLock({ $0 }) { throw error }
        if let closeError { throw closeError }
        throw AMQPClientError(.channelClosed, "channel \(handle.id) is closed")
    }

    /// Sends a request on the channel behind `handle` and waits for its reply.
    func rpc(_ handle: AMQPClientChannel, _ method: AMQPMethod, replies: [(UInt16, UInt16)]) async throws(AMQPClientError)
        -> RPCReply
    {
        let channel = try self.usableChannel(handle)
        return try await self.rpc(channel, method, replies: replies)
    }

    func rpc(_ channel: ChannelState, _ method: AMQPMethod, replies: [(UInt16, UInt16)]) async throws(AMQPClientError)
        -> RPCReply
    {
        // The request is sent from inside the body, after its reply slot exists: the body of
        // `withUnsafeContinuation` was seen to run after other jobs of this actor (Swift 6.3, actor on a
        // custom executor), so a reply could otherwise arrive before anyone waits for it.
        let result = await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<RPCReply, AMQPClientError>, Never>) in
            if let failure = channel.failure {
                continuation.resume(returning: .failure(failure))
                return
            }
            channel.rpcs.append(PendingRPC(replies: replies, continuation: continuation))
            self.send(method, channel: channel.id)
        }
        return try result.get()
    }
}
