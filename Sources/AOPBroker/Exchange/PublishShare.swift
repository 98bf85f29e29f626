/// One caller's part of a combined publish round (`Exchange.beginPublish`): the round's finish phase,
/// run once for every caller, and the range of this caller's items in it.
struct PublishShare: Sendable {
    /// Finishes the whole round (durability wait, index completion, replicator commit) exactly once,
    /// whoever asks first; one outcome per merged item.
    let round: Task<[PublishOutcome], Never>
    /// This caller's items in the merged batch.
    let range: Range<Int>

    /// This caller's outcomes, one per item it began, in its own order.
    func outcomes() async -> [PublishOutcome] {
        Array(await self.round.value[self.range])
    }
}
