import AOPIO
import Logging
import AOPWire

extension AMQPConnection {
    /// Publish batches in flight per connection (one being written while earlier ones wait for their
    /// commit round).
    static let publishPipelineDepth = 2

    /// Whether the connection must stop reading until its queued publishes are answered: past
    /// `maxQueuedPublishes` messages or `maxQueuedPublishBytes` of bodies (a count alone would let a
    /// connection buffer 8,192 bodies of any size while the broker is behind).
    static func publishBacklogIsFull(count: Int, bytes: Int) -> Bool {
        count > Self.maxQueuedPublishes || bytes > Self.maxQueuedPublishBytes
    }

    /// Body bytes of a batch of pending publishes.
    static func bodyBytes(_ pending: [Channel.PendingPublish]) -> Int {
        pending.reduce(0) { $0 + $1.request.message.body.count }
    }

    /// A complete basic.publish: queued on its channel and handed to the broker in a batch at the end of
    /// the current read (or earlier, before another method on the same channel).
    func receivePublish(channel id: UInt16, _ publish: BasicPublish, _ properties: BasicProperties, _ body: [UInt8]) {
        guard let channel = self.channels[id] else { return }
        self.receivePublish(on: channel, id: id, publish, properties, body)
    }

    /// `receivePublish(channel:…)` with the channel already looked up (the fast path has it).
    func receivePublish(on channel: Channel, id: UInt16, _ publish: BasicPublish,
                        _ properties: consuming BasicProperties, _ body: consuming [UInt8]) {
        self.hasPublished = true
        if publish.immediate {
            // RabbitMQ removed support for the immediate flag in 3.0.
            self.hardError(.init(.notImplemented, "immediate=true", classID: 60, methodID: 40))
            return
        }
        // RabbitMQ's validated user-id: a user_id property must name the authenticated user.
        if let userID = properties.userID, userID != self.machine.username {
            self.protocolError(.init(.preconditionFailed,
                                     "user_id property set to '\(userID)' but authenticated user was '\(self.machine.username ?? "")'",
                                     classID: 60, methodID: 40), channel: id)
            return
        }
        var sequence: UInt64?
        if channel.confirmMode {
            sequence = channel.nextPublishSequence
            channel.nextPublishSequence += 1
        }
        let message = Message(exchange: publish.exchange, routingKey: publish.routingKey,
                              properties: properties, body: body)
        let pending = Channel.PendingPublish(
            request: PublishRequest(message: message, mandatory: publish.mandatory), sequence: sequence
        )
        // A class: appended in place, no store back into `channels` (a hash and a retain per publish).
        if channel.txMode {
            channel.txPublishes.append(pending)
        } else {
            channel.pendingPublishes.append(pending)
        }
    }

    /// Hands every channel's pending publishes to the publish worker (no waiting: the connection goes on
    /// reading while earlier batches wait for storage, so the next batch grows and one fdatasync covers it).
    func enqueueAllPending() {
        for id in self.channels.keys where !(self.channels[id]?.pendingPublishes.isEmpty ?? true) {
            self.enqueuePending(channel: id)
        }
    }

    func enqueuePending(channel id: UInt16) {
        guard let pending = self.channels[id]?.pendingPublishes, !pending.isEmpty else { return }
        self.channels[id]?.pendingPublishes.removeAll()
        self.publishQueue.append((id, pending))
        self.publishQueuedCount += pending.count
        self.publishQueuedBytes += Self.bodyBytes(pending)
        self.publishesPerChannel[id, default: 0] += pending.count
        guard !self.publishWorkerRunning else {
            self.wakePublishWorker()
            return
        }
        self.publishWorkerRunning = true
        // On the ring, not a plain `Task {}`: that would start on the global pool, and the worker's
        // nonisolated awaits (publish tickets) would hop there and back for every batch.
        Task(executorPreference: self.socket.loop) { await self.runPublishWorker() }
    }

    /// Publishes queued batches in arrival order, merging what queued up per channel (per-channel order
    /// is kept; AMQP orders nothing across channels), then wakes whoever waits for the queue to drain.
    ///
    /// Batches are pipelined: a batch is begun (routed and written, in order) while up to
    /// `publishPipelineDepth - 1` earlier ones wait for their commit round, so the next round starts as
    /// soon as the previous one ends. Outcomes (confirms, returns) are reported strictly in batch order.
    func runPublishWorker() async {
        var previous: Task<Void, Never>?
        while true {
            if self.publishQueue.isEmpty {
                guard self.publishBatchesInFlight > 0 else { break }
                self.publishWorkerPhase = "idle wait"
                await self.waitForPublishWork()   // a batch finished, or more publishes arrived
                continue
            }
            // Grouped per channel in first-arrival order (few channels: a linear search). The batches are
            // not concatenated here: `beginPublish` copies each request once, into its per-exchange runs.
            var merged: [(id: UInt16, batches: [[Channel.PendingPublish]], count: Int, bytes: Int)] = []
            for (id, list) in self.publishQueue {
                let bytes = Self.bodyBytes(list)
                if let i = merged.firstIndex(where: { $0.id == id }) {
                    merged[i].batches.append(list)
                    merged[i].count += list.count
                    merged[i].bytes += bytes
                } else {
                    merged.append((id, [list], list.count, bytes))
                }
            }
            self.publishQueue.removeAll()
            for g in merged.indices {
                // Taken out of `merged`: once begun, the batch's bodies are released (memory stays bounded
                // by what is queued and in flight, not by what this loop has seen).
                let (id, count, bytes) = (merged[g].id, merged[g].count, merged[g].bytes)
                let batches = merged[g].batches
                merged[g].batches = []
                self.publishWorkerPhase = "depth wait"
                while self.publishBatchesInFlight >= Self.publishPipelineDepth { await self.waitForPublishWork() }
                self.publishWorkerPhase = "begin channel \(id) count \(count)"
                let begun = await self.beginPublish(channel: id, batches)
                self.publishWorkerPhase = "begun"
                self.publishBatchesInFlight += 1
                let before = previous
                previous = Task(executorPreference: self.socket.loop) {
                    await before?.value   // outcomes are reported in batch order
                    await self.finishPublishBatch(channel: id, begun, count: count, bytes: bytes)
                }
            }
        }
        self.publishWorkerRunning = false
        self.publishWorkerPhase = "ended"
        let waiters = self.publishIdleWaiters
        self.publishIdleWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// Reports a pipelined batch's outcomes and releases its place in the pipeline.
    private func finishPublishBatch(channel id: UInt16, _ begun: BegunPublish, count: Int, bytes: Int) async {
        await self.finishPublish(channel: id, begun)
        self.publishQueuedCount -= count
        self.publishQueuedBytes -= bytes
        self.publishesPerChannel[id, default: 0] -= count
        if self.publishesPerChannel[id] == 0 {
            self.publishesPerChannel[id] = nil
            for waiter in self.channelPublishWaiters.removeValue(forKey: id) ?? [] { waiter.resume() }
        }
        self.publishBatchesInFlight -= 1
        self.wakePublishWorker()
    }

    /// Suspends the publish worker until `wakePublishWorker()`, or returns at once if it was called since
    /// the last wait (a wake-up is never lost, whatever the worker was doing when it came).
    ///
    /// The signal is tested inside the continuation's body, not before the call: the actor can run other
    /// work between the call and the body (aop-stress found wake-ups lost there, leaving the worker asleep
    /// with publishes queued, so every later method on the channel and the connection's teardown hung).
    private func waitForPublishWork() async {
        await withCheckedContinuation { continuation in
            if self.publishWorkSignalled {
                self.publishWorkSignalled = false
                continuation.resume()
            } else {
                self.publishWorkerWakeup = continuation
            }
        }
    }

    /// Resumes the publish worker if it waits (a batch finished, or publishes were queued), or makes its
    /// next wait return at once.
    func wakePublishWorker() {
        guard let wakeup = self.publishWorkerWakeup else {
            self.publishWorkSignalled = true
            return
        }
        self.publishWorkerWakeup = nil
        wakeup.resume()
    }

    /// Waits until the channel's queued publishes have been answered by the broker: a method on a channel
    /// follows its publishes (per-channel order); other channels' publishes do not hold it up.
    func waitForPublishes(channel id: UInt16) async {
        guard self.publishesPerChannel[id] != nil else { return }
        await withCheckedContinuation { continuation in
            // Tested again here: they may have finished between the call and this body (see waitForPublishWork).
            if self.publishesPerChannel[id] == nil {
                continuation.resume()
            } else {
                self.channelPublishWaiters[id, default: []].append(continuation)
            }
        }
    }

    /// Waits until every queued publish has been handed to the broker and answered (when too much is
    /// queued, at teardown).
    func waitForPublishes() async {
        guard self.publishWorkerRunning else { return }
        await withCheckedContinuation { continuation in
            // Tested again here: the worker may have ended between the call and this body.
            if self.publishWorkerRunning {
                self.publishIdleWaiters.append(continuation)
            } else {
                continuation.resume()
            }
        }
    }

    /// Consecutive publishes of one channel to one exchange: one `VirtualHost.beginPublish` call.
    struct PublishRun: Sendable {
        var exchange: String
        /// Emptied once begun unless one of them is mandatory (see `beginPublish`).
        var requests: [PublishRequest] = []
        /// Confirm sequence numbers, parallel to `requests` (nil: no confirm).
        var sequences: [UInt64?] = []
    }

    /// Publishes one channel's batch and reports its outcomes (begin and finish in one go).
    func publish(channel id: UInt16, _ pending: [Channel.PendingPublish]) async {
        await self.finishPublish(channel: id, await self.beginPublish(channel: id, [pending]))
    }

    /// A channel batch that has been routed and written, per run of publishes to one exchange.
    struct BegunPublish: Sendable {
        var runs: [(run: PublishRun, ticket: PublishTicket)] = []
        /// A run the vhost refused (unknown or internal exchange): the channel closes after the runs before it.
        var failure: AMQPError?
    }

    /// Routes and writes a channel's queued batches, in order, one vhost call per run of publishes to the
    /// same exchange.
    func beginPublish(channel id: UInt16, _ batches: [[Channel.PendingPublish]]) async -> BegunPublish {
        var begun = BegunPublish()
        guard let vhost = self.virtualHost, let channel = self.channels[id], case .open = channel.state else {
            return begun
        }
        var runs: [PublishRun] = []
        for batch in batches {
            for p in batch {
                if runs.isEmpty || runs[runs.count - 1].exchange != p.request.message.exchange {
                    runs.append(PublishRun(exchange: p.request.message.exchange))
                }
                runs[runs.count - 1].requests.append(p.request)
                runs[runs.count - 1].sequences.append(p.sequence)
            }
        }
        for var run in runs {
            do {
                let ticket = try await vhost.beginPublish(exchange: run.exchange, run.requests)
                // Stored now: until the outcome, only a mandatory publish needs its message (for
                // basic.return). Without one the requests are dropped (messages are shared, so clearing
                // bodies one by one would copy each message instead).
                if !run.requests.contains(where: \.mandatory) { run.requests = [] }
                begun.runs.append((run, ticket))
            } catch {
                begun.failure = error
                break
            }
        }
        return begun
    }

    /// Waits for a begun batch to be stored and reports its outcomes (confirms, returns), then closes the
    /// channel if a run was refused.
    func finishPublish(channel id: UInt16, _ begun: BegunPublish) async {
        for (run, ticket) in begun.runs {
            let outcomes = await ticket.finish()
            if outcomes.contains(.noSpace) { await self.broker.storageFull() }
            guard self.channels[id] != nil, !self.closed else { return }
            self.reportOutcomes(channel: id, run, outcomes)
            self.flush()
        }
        if let failure = begun.failure, self.channels[id] != nil, !self.closed {
            // Unknown or internal exchange: the channel closes; later publishes on it are dropped.
            self.protocolError(failure.failing(classID: 60, methodID: 40), channel: id)
        }
    }

    /// basic.return for unroutable mandatory publishes (always before the confirm), then basic.ack runs
    /// coalesced with `multiple` and basic.nack for rejected messages.
    func reportOutcomes(channel id: UInt16, _ run: PublishRun, _ outcomes: [PublishOutcome]) {
        let frameMax = self.tuning.frameMax
        var ackUpTo: UInt64?
        var ackCount = 0
        func flushAcks(_ conn: isolated AMQPConnection) {
            guard let upTo = ackUpTo else { return }
            let multiple = ackCount > 1
            conn.send { $0.writeMethodFrame(channel: id, .basicAck(BasicAck(deliveryTag: upTo, multiple: multiple))) }
            ackUpTo = nil
            ackCount = 0
        }
        for (i, outcome) in outcomes.enumerated() where i < run.sequences.count {
            if outcome == .unroutable, i < run.requests.count, run.requests[i].mandatory {
                let m = run.requests[i].message
                self.send {
                    $0.writeMethodFrame(channel: id, .basicReturn(BasicReturn(
                        replyCode: AMQPError.Code.noRoute.replyCode, replyText: "NO_ROUTE",
                        exchange: m.exchange, routingKey: m.routingKey
                    )))
                    $0.writeContent(channel: id, properties: m.properties, body: m.body, frameMax: frameMax)
                }
            }
            guard let sequence = run.sequences[i] else { continue }
            if outcome == .rejected || outcome == .noSpace {
                flushAcks(self)
                self.send { $0.writeMethodFrame(channel: id, .basicNack(BasicNack(deliveryTag: sequence, multiple: false, requeue: false))) }
            } else {
                ackUpTo = sequence
                ackCount += 1
            }
        }
        flushAcks(self)
    }

    func handleTxMethod(channel id: UInt16, _ method: AMQPMethod) async throws(AMQPError) {
        guard let channel = self.channels[id] else { return }
        switch method {
        case .txSelect:
            if channel.confirmMode {
                throw AMQPError(.preconditionFailed, "cannot switch from confirm to tx mode")
            }
            self.channels[id]?.txMode = true
            self.send { $0.writeMethodFrame(channel: id, .txSelectOk(TxSelectOk())) }
        case .txCommit:
            guard channel.txMode else { throw AMQPError(.preconditionFailed, "channel is not transactional") }
            let publishes = channel.txPublishes
            let settlements = channel.txSettlements
            self.channels[id]?.txPublishes.removeAll()
            self.channels[id]?.txSettlements.removeAll()
            await self.publish(channel: id, publishes)
            for s in settlements {
                guard let ch = self.channels[id] else { return }
                var taken: [Channel.Unacked] = []
                for tag in s.tags {
                    if let t = ch.takeUnacked(tag: tag, multiple: false) { taken.append(contentsOf: t.map(\.1)) }
                }
                self.channels[id] = ch
                await self.settle(taken, s.settlement)
            }
            if !settlements.isEmpty { await self.wakeQueues(channel: id) }
            guard self.channels[id] != nil else { return }
            self.send { $0.writeMethodFrame(channel: id, .txCommitOk(TxCommitOk())) }
        case .txRollback:
            guard channel.txMode else { throw AMQPError(.preconditionFailed, "channel is not transactional") }
            self.channels[id]?.txPublishes.removeAll()
            self.channels[id]?.txSettlements.removeAll()
            self.send { $0.writeMethodFrame(channel: id, .txRollbackOk(TxRollbackOk())) }
        default:
            preconditionFailure("not a tx method")
        }
    }
}
