import AOPIO
import Logging
import AOPWire

extension AMQPConnection {
    /// The publish fast path, without suspending: basic.publish and content frames on an open channel go
    /// straight into its assembler (a completed publish is queued by `receivePublish`). Returns false for
    /// every other frame, and for these in any other state: `handle` deals with them.
    func assemblePublish(_ frame: Frame) -> Bool {
        let id: UInt16
        switch frame {
        case .method(let channel, .basicPublish): id = channel
        case .header(let channel, _), .body(let channel, _): id = channel
        default: return false
        }
        guard id != 0, self.machine.isOpen, let channel = self.channels[id], case .open = channel.state else {
            return false
        }
        let output: CommandAssembler.Output
        do {
            output = try channel.assembler.process(frame)
        } catch {
            self.protocolError(error, channel: id)
            return true
        }
        switch output {
        case .needMore:
            break
        case .content(.basicPublish(let publish), let header, let body):
            self.receivePublish(channel: id, publish, header.properties, body)
        case .content(let method, _, _):
            self.hardError(.init(.commandInvalid, "\(method.name) may not be sent by a client",
                                 classID: method.classID, methodID: method.methodID))
        case .method(let method):
            // Not reachable: the only method frame taken here is basic.publish, which has content.
            self.hardError(.internalError("\(method.name) assembled without content"))
        }
        return true
    }

    /// The publish fast path's first step: a basic.publish whose header and single body frame are all in
    /// the inbound buffer, on an open channel with nothing half-assembled, is read in one pass (no
    /// `Frame` values, no assembler) and queued. False, with nothing consumed, for anything else: the
    /// frame-by-frame path (`assemblePublish`, `handle`) takes it, with the same outcome and errors.
    func receiveWholePublish() -> Bool {
        guard self.machine.isOpen, let id = FrameDecoder.publishChannel(in: self.inbound), id != 0,
              let channel = self.channels[id], case .open = channel.state, channel.assembler.isIdle
        else { return false }
        let taken = self.decoder.scanPublish(self.inbound, maxBodySize: channel.assembler.maxBodySize) {
            _, publish, properties, body in
            self.receivePublish(on: channel, id: id, publish, properties, body)
        }
        guard let taken else { return false }
        self.inbound.moveReaderIndex(forwardBy: taken)
        return true
    }

    func handleChannelFrame(channel id: UInt16, _ frame: Frame) async {
        guard let channel = self.channels[id] else {
            // Only channel.open may address a channel that is not open.
            guard case .method(_, .channelOpen) = frame else {
                self.hardError(.init(.channelError, "expected 'channel.open' on channel \(id)"))
                return
            }
            self.openChannel(id)
            return
        }
        if case .closing = channel.state {
            // After our channel.close only close-ok (or a crossing close) counts (spec 2.2.4).
            switch frame {
            case .method(_, .channelCloseOk):
                await self.releaseResources(of: id)
                self.channels[id] = nil
            case .method(_, .channelClose):
                // A crossing close: answer it, and stay closing until the close-ok for ours (as RabbitMQ's
                // reader does), so that close-ok does not arrive on an unknown channel.
                await self.releaseResources(of: id)
                self.send { $0.writeMethodFrame(channel: id, .channelCloseOk(ChannelCloseOk())) }
            default:
                break
            }
            return
        }
        let output: CommandAssembler.Output
        do {
            output = try channel.assembler.process(frame)
            self.channels[id] = channel
        } catch {
            self.channels[id] = channel
            self.protocolError(error, channel: id)
            return
        }
        switch output {
        case .needMore:
            return
        case .content(.basicPublish(let publish), let header, let body):
            self.receivePublish(channel: id, publish, header.properties, body)
        case .content(let method, _, _):
            self.hardError(.init(.commandInvalid, "\(method.name) may not be sent by a client",
                                 classID: method.classID, methodID: method.methodID))
        case .method(let method):
            self.enqueuePending(channel: id)
            self.activity = "\(method.name) on channel \(id): waiting for its publishes"
            await self.waitForPublishes(channel: id)
            // The flushed publishes may have failed and closed the channel: then this method is discarded,
            // except a channel.close, which crossed our close and is answered (spec 2.2.4).
            guard let channel = self.channels[id], case .open = channel.state, !self.closed else {
                if case .channelClose = method, !self.closed, let channel = self.channels[id], case .closing = channel.state {
                    self.send { $0.writeMethodFrame(channel: id, .channelCloseOk(ChannelCloseOk())) }
                }
                return
            }
            // Deliveries and cancellations that arrive while the method awaits wait until its reply is
            // written, so a client sees e.g. queue.delete-ok before the basic.cancel it caused.
            self.methodInFlight = true
            self.activity = "\(method.name) on channel \(id)"
            do {
                try await self.handleChannelMethod(channel: id, method)
            } catch {
                self.protocolError(error.failing(classID: method.classID, methodID: method.methodID), channel: id)
            }
            self.activity = "reading"
            self.methodInFlight = false
            if self.drainDeferred {
                self.drainDeferred = false
                self.flush()
                await self.drainInbox()
            }
        }
    }

    /// Routes an error to channel.close (soft) or connection.close (hard).
    func protocolError(_ error: AMQPError, channel id: UInt16) {
        if error.code.closesConnection {
            self.hardError(error)
        } else if self.beginClosingChannel(id, error) {
            // The channel is already closing (frames after this are discarded); release its
            // consumers and unacked deliveries without holding up the frames behind this one.
            Task { await self.releaseResources(of: id) }
        }
    }

    func openChannel(_ id: UInt16) {
        let max = self.tuning.channelMax == 0 ? UInt16.max : self.tuning.channelMax
        // RabbitMQ limits the number of open channels (530), and we also refuse numbers above the max (504).
        guard self.channels.count < Int(max) else {
            self.hardError(.init(.notAllowed, "number of channels opened (\(self.channels.count)) has reached the negotiated channel_max (\(max))",
                                 classID: 20, methodID: 10))
            return
        }
        guard id <= max else {
            self.hardError(.init(.channelError, "channel number \(id) exceeds the negotiated channel_max (\(max))",
                                 classID: 20, methodID: 10))
            return
        }
        let sink = ChannelSink(channelID: id, inbox: self.inbox)
        self.channels[id] = Channel(id: id, maxBodySize: self.broker.configuration.maxMessageSize, sink: sink)
        self.send { $0.writeMethodFrame(channel: id, .channelOpenOk(ChannelOpenOk())) }
    }

    /// Server-initiated channel.close after a soft error: marks the channel closing at once (spec 2.2.4:
    /// everything but close/close-ok is discarded from now on) and sends channel.close. Returns false when
    /// the channel was not open.
    func beginClosingChannel(_ id: UInt16, _ error: AMQPError) -> Bool {
        guard let channel = self.channels[id], case .open = channel.state else { return false }
        self.logger.info("channel \(id) error: \(error)")
        self.channels[id]?.state = .closing
        self.channels[id]?.pendingPublishes.removeAll()
        self.send { $0.writeMethodFrame(channel: id, .channelClose(error.channelClose)) }
        self.flush()
        return true
    }

    /// Cancels the channel's consumers and requeues its unacked deliveries (channel close, connection loss).
    func releaseResources(of id: UInt16) async {
        guard let channel = self.channels[id] else { return }
        let consumers = Array(channel.consumers.values)
        channel.consumers.removeAll()
        channel.released = true
        let unacked = channel.takeAllUnacked()
        let held = channel.heldDeliveries
        channel.heldDeliveries.removeAll()
        channel.pendingPublishes.removeAll()
        channel.txPublishes.removeAll()
        channel.txSettlements.removeAll()
        self.channels[id] = channel
        for consumer in consumers {
            await consumer.queue.cancel(consumerTag: consumer.tag)
        }
        await self.settle(unacked.map { $0.1 }, .requeue)
        await self.requeue(held)
    }

    /// Drops a channel entirely (connection teardown).
    func releaseChannel(_ id: UInt16) async {
        await self.releaseResources(of: id)
        self.channels[id] = nil
    }

    func handleChannelMethod(channel id: UInt16, _ method: AMQPMethod) async throws(AMQPError) {
        switch method {
        case .channelOpen:
            throw AMQPError(.channelError, "second 'channel.open' seen")
        case .channelClose:
            await self.releaseResources(of: id)
            self.channels[id] = nil
            self.send { $0.writeMethodFrame(channel: id, .channelCloseOk(ChannelCloseOk())) }
        case .channelCloseOk:
            break  // close-ok for a close we did not send: ignore, as RabbitMQ does
        case .channelFlow(let flow):
            self.channels[id]?.flowActive = flow.active
            self.send { $0.writeMethodFrame(channel: id, .channelFlowOk(ChannelFlowOk(active: flow.active))) }
            if flow.active { await self.releaseHeld(channel: id) }
        case .channelFlowOk:
            break
        case .accessRequest:
            self.send { $0.writeMethodFrame(channel: id, .accessRequestOk(AccessRequestOk(reserved1: 1))) }
        case .exchangeDeclare, .exchangeDelete, .exchangeBind, .exchangeUnbind:
            try await self.handleExchangeMethod(channel: id, method)
        case .queueDeclare, .queueBind, .queueUnbind, .queuePurge, .queueDelete:
            try await self.handleQueueMethod(channel: id, method)
        case .basicQos, .basicConsume, .basicCancel, .basicGet, .basicAck, .basicReject, .basicNack,
             .basicRecover, .basicRecoverAsync:
            try await self.handleBasicMethod(channel: id, method)
        case .confirmSelect(let select):
            guard let channel = self.channels[id] else { return }
            if channel.txMode {
                throw AMQPError(.preconditionFailed, "cannot switch from tx to confirm mode")
            }
            self.channels[id]?.confirmMode = true
            if !select.nowait {
                self.send { $0.writeMethodFrame(channel: id, .confirmSelectOk(ConfirmSelectOk())) }
            }
        case .txSelect, .txCommit, .txRollback:
            try await self.handleTxMethod(channel: id, method)
        default:
            throw AMQPError(.commandInvalid, "\(method.name) may not be sent by a client")
        }
    }
}
