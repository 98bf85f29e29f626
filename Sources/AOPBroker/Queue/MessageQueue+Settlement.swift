import AOPStorage

extension MessageQueue {
    func settleDeliveries(_ ids: [UInt64], _ settlement: Settlement) async {
        var settled: [Unacked] = []
        settled.reserveCapacity(ids.count)
        for id in ids {
            if let u = self.unacked.removeValue(forKey: id) { settled.append(u) }
        }
        guard !settled.isEmpty, case .running = self.lifecycle else { return }
        switch settlement {
        case .ack:
            await self.retire(settled.map { ($0.level, $0.ready) })
        case .requeue:
            self.putBack(settled.map { ($0.level, $0.ready) }, redelivered: true)
        case .reject:
            self.deadLetter(settled.map { DeadLetterItem(level: $0.level, ready: $0.ready, reason: .rejected) })
        }
    }

    /// Sends entries that left the queue to the dead-letter exchange (when the queue has one), then
    /// acknowledges them. Runs in the background, in order, so a publish path never waits for it (a DLX
    /// that routes back into the exchange being published to must not deadlock).
    func deadLetter(_ items: [DeadLetterItem]) {
        guard !items.isEmpty else { return }
        self.deadLetters.append(contentsOf: items)
        guard !self.deadLetterRunning else { return }
        self.deadLetterRunning = true
        Task { await self.drainDeadLetters() }
    }

    private func drainDeadLetters() async {
        defer { self.deadLetterRunning = false }
        while !self.deadLetters.isEmpty {
            let batch = Array(self.deadLetters.prefix(Self.dispatchBatch))
            self.deadLetters.removeFirst(batch.count)
            if let exchange = self.policy.deadLetterExchange, let vhost = self.vhost {
                let messages = await self.fetchMessages(batch.map(\.ready.entry))
                var out: [(Message, DeadLetterReason)] = []
                for (item, message) in zip(batch, messages) {
                    if let message { out.append((message, item.reason)) }
                }
                await vhost.deadLetter(out, queue: self.name, exchange: exchange,
                                       routingKey: self.policy.deadLetterRoutingKey)
            }
            // Only now: the dead-lettered copy exists, so a transient message is released after it.
            await self.retire(batch.map { ($0.level, $0.ready) })
        }
    }
}
