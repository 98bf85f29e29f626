/// A publish batch that has been routed and written (`VirtualHost.beginPublish`) and waits for its
/// commit round. `finish()` returns one outcome per request of the batch, in order.
struct PublishTicket: Sendable {
    /// Requests in the batch.
    var count: Int
    /// The routed requests' part of the exchange's write round; nil when nothing was routed.
    var share: PublishShare?
    /// For each routed item, its index in the batch (unrouted requests are `.unroutable`).
    var slots: [Int]

    func finish() async -> [PublishOutcome] {
        var outcomes = [PublishOutcome](repeating: .unroutable, count: self.count)
        guard let share = self.share else { return outcomes }
        let results = await share.outcomes()
        for (slot, result) in zip(self.slots, results) { outcomes[slot] = result }
        return outcomes
    }
}
