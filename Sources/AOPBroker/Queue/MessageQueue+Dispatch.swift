import DequeModule
import AOPStorage

extension MessageQueue {
    /// One delivery decided by a dispatch pass, before its body is fetched.
    struct Assignment {
        var deliveryID: UInt64
        var level: Int
        var ready: ReadyEntry
        var consumer: ConsumerSet.Member
    }

    /// Runs dispatch soon (once, however many triggers arrive meanwhile).
    func scheduleDispatch() {
        guard case .running = self.lifecycle else { return }
        if self.dispatchRunning {
            self.dispatchScheduled = true
            return
        }
        guard !self.dispatchScheduled else { return }
        self.dispatchScheduled = true
        // Started on the queue's task executor (the ring when pinned): a plain `Task {}` is enqueued on the
        // global pool first and hops back, a cross-thread wake-up per dispatch that, on a loaded machine,
        // waits for a pool thread to be scheduled (milliseconds of delivery latency at p99).
        Task(executorPreference: self.placement.taskExecutor) { await self.runDispatch() }
    }

    /// Delivers ready entries to consumers with credit until either runs out. One pass at a time.
    func runDispatch() async {
        guard !self.dispatchRunning else { return }
        self.dispatchRunning = true
        defer { self.dispatchRunning = false }
        while self.dispatchScheduled, case .running = self.lifecycle {
            self.dispatchScheduled = false
            await self.refillWindows()
            self.expireHeads()
            self.enforceLengthLimit()
            let assignments = self.assign()
            if !assignments.isEmpty {
                await self.deliver(assignments)
                self.dispatchScheduled = true   // more may fit: loop until nothing is assigned
            }
        }
        self.scheduleExpiry()
    }

    /// Takes up to `dispatchBatch` entries and pairs each with a consumer that granted a credit.
    /// Records them as unacked before any await.
    private func assign() -> [Assignment] {
        var out: [Assignment] = []
        out.reserveCapacity(min(Self.dispatchBatch, self.readyCount))   // grown once, not by doubling
        let now = WallClock.nowMilliseconds()
        // A lone consumer gets its credit for the whole pass in one acquisition (one lock, not one per
        // entry); what the pass does not use goes back at the end.
        var lone: (member: ConsumerSet.Member, credits: Int)?
        if self.consumers.count == 1 {
            let ready = min(Self.dispatchBatch, self.levels.reduce(0) { $0 + $1.window.count })
            let member = self.consumers.members[0]
            lone = (member, ready > 0 ? member.registration.credit.tryAcquire(ready) : 0)
        }
        defer {
            if let lone, lone.credits > 0 { lone.member.registration.credit.release(lone.credits) }
        }
        while out.count < Self.dispatchBatch, let level = self.headLevel {
            guard let head = self.levels[level].window.first else { break }
            if head.entry.isExpired(now: now) {
                self.expireHeads()
                continue
            }
            let consumer: ConsumerSet.Member
            if let l = lone {
                guard l.credits > 0 else { break }
                consumer = l.member
                lone!.credits -= 1
            } else {
                guard let next = self.consumers.next() else { break }
                consumer = next
            }
            self.levels[level].window.removeFirst()
            self.readyCount -= 1
            self.readyBytes -= Int(head.entry.bodySize)
            let id = self.nextDeliveryID
            self.nextDeliveryID += 1
            if !consumer.registration.noAck {
                self.unacked[id] = Unacked(level: level, ready: head, consumer: consumer.id)
            }
            out.append(Assignment(deliveryID: id, level: level, ready: head, consumer: consumer))
        }
        return out
    }

    /// Fetches the bodies and hands each consumer its batch. Deliveries whose consumer went away
    /// meanwhile are requeued and their credit returned.
    private func deliver(_ assignments: [Assignment]) async {
        var messages = await self.fetchMessages(assignments.map(\.ready.entry))
        guard case .running = self.lifecycle else {
            // Deleted meanwhile: `shutdown` released the unacked ones; no-ack ones were in no collection.
            self.topics.release(assignments.filter(\.consumer.registration.noAck).map(\.ready.entry))
            return
        }
        // One batch per consumer, in first-assignment order. Found through the last one used, then a
        // linear search; a dictionary only once there are many (no hashing for the usual one or few).
        var batches: [(id: UInt64, sink: any DeliverySink, deliveries: [Delivery])] = []
        var batchIndex: [UInt64: Int] = [:]
        var last = 0
        func batch(for consumer: ConsumerSet.Member) -> Int {
            if last < batches.count, batches[last].id == consumer.id { return last }
            let found: Int?
            if batches.count <= 8 {
                found = batches.firstIndex { $0.id == consumer.id }
            } else {
                if batchIndex.isEmpty { for (i, b) in batches.enumerated() { batchIndex[b.id] = i } }
                found = batchIndex[consumer.id]
            }
            if let found {
                last = found
            } else {
                last = batches.count
                var deliveries: [Delivery] = []
                if batches.isEmpty { deliveries.reserveCapacity(assignments.count) }  // usually the only one
                batches.append((consumer.id, consumer.registration.sink, deliveries))
                if !batchIndex.isEmpty { batchIndex[consumer.id] = last }
            }
            return last
        }
        var requeue: [(Int, ReadyEntry)] = []
        var settleNow: [(level: Int, ready: ReadyEntry)] = []
        if assignments.first?.consumer.registration.noAck == true { settleNow.reserveCapacity(assignments.count) }
        // Indexed: an assignment is read in place and its message moved into the delivery, not copied
        // (a copy per element retains and releases its consumer, entry and message).
        for i in assignments.indices {
            // Fields read in place (`assignments[i].…`): binding the assignment copied it, a retain and
            // release of its consumer per delivery.
            guard let message = messages[i].take() else {
                // The message is gone (trimmed/corrupt): drop the entry.
                self.unacked[assignments[i].deliveryID] = nil
                assignments[i].consumer.registration.credit.release(1)
                settleNow.append((assignments[i].level, assignments[i].ready))
                continue
            }
            let consumer = assignments[i].consumer
            guard self.consumers.contains(id: consumer.id) else {
                if self.unacked.removeValue(forKey: assignments[i].deliveryID) != nil || consumer.registration.noAck {
                    requeue.append((assignments[i].level, assignments[i].ready))
                }
                consumer.registration.credit.release(1)
                continue
            }
            if consumer.registration.noAck { settleNow.append((assignments[i].level, assignments[i].ready)) }
            let delivery = Delivery(consumerTag: consumer.registration.tag, queue: self,
                                    deliveryID: assignments[i].deliveryID, message: message,
                                    redelivered: assignments[i].ready.redelivered)
            batches[batch(for: consumer)].deliveries.append(delivery)
        }
        for b in batches { b.sink.deliver(b.deliveries) }
        // Flagged redelivered: the queue has meanwhile handed later messages to other consumers, so an
        // unflagged copy would arrive out of publish order (ActorStressTests found it). RabbitMQ flags
        // every requeued message the same way.
        if !requeue.isEmpty { self.putBack(requeue, redelivered: true) }
        if !settleNow.isEmpty { await self.retire(settleNow) }
    }

    /// basic.get: the next ready entry with its message.
    func takeOne(noAck: Bool) async -> Delivery? {
        while case .running = self.lifecycle {
            await self.refillWindows()
            while self.headLevel == nil, self.levels.contains(where: { $0.hasUnloaded || $0.loading }),
                  case .running = self.lifecycle {
                await self.refillWindows()
            }
            guard case .running = self.lifecycle else { return nil }
            self.expireHeads()
            guard let level = self.headLevel, let head = self.levels[level].window.popFirst() else { return nil }
            self.readyCount -= 1
            self.readyBytes -= Int(head.entry.bodySize)
            let id = self.nextDeliveryID
            self.nextDeliveryID += 1
            if !noAck { self.unacked[id] = Unacked(level: level, ready: head, consumer: nil) }
            let messages = await self.fetchMessages([head.entry])
            guard case .running = self.lifecycle else {
                // Deleted meanwhile: `shutdown` released it when unacked; a no-ack one was nowhere.
                if noAck { self.topics.release([head.entry]) }
                return nil
            }
            guard let fetched = messages.first, let message = fetched else {
                self.unacked[id] = nil
                await self.retire([(level, head)])
                continue
            }
            if noAck { await self.retire([(level, head)]) }
            return Delivery(consumerTag: "", queue: self, deliveryID: id, message: message,
                            redelivered: head.redelivered, messageCount: UInt32(clamping: max(0, self.readyCount)))
        }
        return nil
    }

    /// Returns entries to the ready set in index order.
    func putBack(_ entries: [(level: Int, ready: ReadyEntry)], redelivered: Bool) {
        var perLevel: [Int: [ReadyEntry]] = [:]
        for (level, ready) in entries {
            var r = ready
            if redelivered { r.redelivered = true }
            perLevel[level, default: []].append(r)
            self.readyCount += 1
            self.readyBytes += Int(r.entry.bodySize)
        }
        for (level, list) in perLevel { self.levels[level].insertSorted(list) }
        self.scheduleDispatch()
    }
}
