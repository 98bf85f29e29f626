import AOPIO
import AOPWire

extension AMQPClientConnection {
    /// Opens a new channel (`channel.open`).
    /// - Throws: `.invalidArgument` when every channel number up to channel-max is in use; the
    ///   connection's error when it is closed.
    public func openChannel() async throws(AMQPClientError) -> AMQPClientChannel {
        guard self.phase == .open else {
            throw self.closeError ?? AMQPClientError(.connectionClosed, "connection is closing")
        }
        let id = try self.allocateChannelID()
        let channel = ChannelState(id: id, loop: self.loop)
        self.channels[id] = channel
        self.closedChannels[id] = nil
        _ = try await self.rpc(channel, .channelOpen(ChannelOpen()), replies: [(20, 11)])
        channel.status = .open
        return AMQPClientChannel(connection: self, id: id, shared: channel.shared)
    }

    private func allocateChannelID() throws(AMQPClientError) -> UInt16 {
        let limit = self.channelMax == 0 ? UInt16.max : self.channelMax
        for _ in 0..<Int(limit) {
            let id = self.nextChannelID
            self.nextChannelID = id >= limit ? 1 : id + 1
            if self.channels[id] == nil { return id }
        }
        throw .invalidArgument("all \(limit) channels are in use")
    }

    func closeChannel(_ handle: AMQPClientChannel) async throws(AMQPClientError) {
        let channel: ChannelState
        do {
            channel = try self.usableChannel(handle)
        } catch {
            if error.code == .channelClosed || error.code == .connectionClosed { return }
            throw error
        }
        channel.status = .closing
        // The close-ok must be read even when nobody reads these consumers any more.
        for consumer in channel.consumers.values { consumer.queue.releaseBackpressure() }
        _ = try await self.rpc(channel, .channelClose(ChannelClose(replyCode: 200, replyText: "Goodbye", classID: 0,
                                                                   methodID: 0)), replies: [(20, 41)])
    }

    /// `basic.cancel`, waiting for `cancel-ok` (which ends the consumer's sequences).
    func cancelConsumer(_ handle: AMQPClientChannel, tag: String) async throws(AMQPClientError) {
        let channel = try self.usableChannel(handle)
        // The cancel-ok must be read even when nobody reads this consumer any more.
        channel.consumers[tag]?.queue.releaseBackpressure()
        _ = try await self.rpc(channel, .basicCancel(BasicCancel(consumerTag: tag)), replies: [(60, 31)])
    }

    /// Sends a method that has no reply (ack, nack, reject) on an open channel.
    func sendWithoutReply(_ handle: AMQPClientChannel, _ method: AMQPMethod) throws(AMQPClientError) {
        let channel = try self.usableChannel(handle)
        self.send(method, channel: channel.id)
    }

    func confirmSelect(_ handle: AMQPClientChannel) async throws(AMQPClientError) {
        let channel = try self.usableChannel(handle)
        guard !channel.confirmMode else { return }
        channel.confirmMode = true  // publishes after this frame are numbered from 1
        _ = try await self.rpc(channel, .confirmSelect(ConfirmSelect(noWait: false)), replies: [(85, 11)])
    }

    func confirmSequence(_ handle: AMQPClientChannel) throws(AMQPClientError) -> AMQPClientSequence<AMQPConfirm> {
        let channel = try self.usableChannel(handle)
        let queue = channel.confirmQueue ?? LoopQueue(loop: self.loop)
        channel.confirmQueue = queue
        return AMQPClientSequence(queue: queue, connection: self)
    }

    func waitForConfirms(_ handle: AMQPClientChannel, outstandingBelow limit: UInt64) async throws(AMQPClientError) -> Bool {
        let channel = try self.usableChannel(handle)
        guard channel.confirmMode else { throw .invalidArgument("channel \(handle.id) is not in confirm mode") }
        if channel.confirms.outstanding >= limit {
            let result = await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<Void, AMQPClientError>, Never>) in
                // Re-checked in the body, which can run after other jobs of this actor (see `rpc`).
                if let failure = channel.failure {
                    continuation.resume(returning: .failure(failure))
                } else if channel.confirms.outstanding < limit {
                    continuation.resume(returning: .success(()))
                } else {
                    channel.confirmWaiters.append((limit, continuation))
                }
            }
            try result.get()
        }
        let allAcked = !channel.nackedSinceWait
        if limit == 1 { channel.nackedSinceWait = false }
        return allAcked
    }

    func confirmCounts(_ handle: AMQPClientChannel) throws(AMQPClientError) -> (published: UInt64, acked: UInt64, nacked: UInt64) {
        let channel = try self.usableChannel(handle)
        return (channel.confirms.published, channel.confirms.acked, channel.confirms.nacked)
    }

    func consume(_ handle: AMQPClientChannel, _ consume: BasicConsume) async throws(AMQPClientError) -> AMQPClientConsumer {
        let channel = try self.usableChannel(handle)
        var consume = consume
        if consume.consumerTag.isEmpty {
            channel.consumerCounter += 1
            consume.consumerTag = "aop.ctag-\(handle.id).\(channel.consumerCounter)"
        }
        let tag = consume.consumerTag
        guard channel.consumers[tag] == nil else {
            throw .invalidArgument("consumer tag '\(tag)' is already in use on channel \(handle.id)")
        }
        let consumer = ConsumerState(tag: tag, queue: LoopQueue(loop: self.loop, highWater: Self.consumerHighWater))
        channel.consumers[tag] = consumer
        do {
            _ = try await self.rpc(channel, .basicConsume(consume), replies: [(60, 21)])
        } catch {
            if channel.consumers[tag] === consumer { _ = channel.removeConsumer(tag) }
            consumer.queue.finish(error)
            throw error
        }
        return AMQPClientConsumer(channel: handle, tag: tag, queue: consumer.queue)
    }

    func publish(_ handle: AMQPClientChannel, exchange: String, routingKey: String, body: [UInt8],
                 properties: BasicProperties, mandatory: Bool) async throws(AMQPClientError) -> UInt64 {
        let channel = try self.usableChannel(handle)
        self.scratch.clear()
        self.scratch.writeMethodFrame(channel: channel.id, .basicPublish(BasicPublish(exchange: exchange, routingKey: routingKey,
                                                                                      mandatory: mandatory)))
        self.scratch.writeContent(channel: channel.id, properties: properties, body: body, frameMax: self.frameMax)
        self.writeScratch()
        let sequence = channel.confirmMode ? channel.confirms.publish() : 0
        await self.applyBackpressure()
        return sequence
    }

    func publish(_ handle: AMQPClientChannel, encoded: UnsafeRawBufferPointer, count: Int) throws(AMQPClientError) -> UInt64 {
        let channel = try self.usableChannel(handle)
        self.tcp.write(encoded)
        return channel.confirmMode ? channel.confirms.publish(count: count) : 0
    }

    /// Bytes queued for the socket and not yet taken by the kernel.
    public var pendingOutboundBytes: Int { self.tcp.pendingOutboundBytes }
}

extension AMQPClientConnection {
    func publishBatch(_ handle: AMQPClientChannel, _ encoded: [UInt8], count: Int) async throws(AMQPClientError) -> UInt64 {
        let sequence = try encoded.withUnsafeBytes { raw in
            Result { () throws(AMQPClientError) -> UInt64 in try self.publish(handle, encoded: raw, count: count) }
        }.get()
        await self.applyBackpressure()
        return sequence
    }
}
