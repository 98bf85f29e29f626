/// A publish batch that has been routed and written (`VirtualHost.beginPublish`) and waits for its
/// commit round. `finish()` returns one outcome per request of the batch, in order.
struct PublishTicket: Sendable {
    /// Requests in the batch.
    var count: Int
    var exchange: Exchange?
    var written: WrittenPublish?
    /// For each routed item, its index in the batch (unrouted requests are `.unroutable`).
    var slots: [Int]

    func finish() async -> [PublishOutcome] {
        var outcomes = [PublishOutcome](repeating: .unroutable, count: self.count)
        guard let exchange = self.exchange, let written = self.written else { return outcomes }
        let results = await exchange.finishPublish(written)
        for (slot, result) in zip(self.slots, results) { outcomes[slot] = result }
        return outcomes
    }
}
