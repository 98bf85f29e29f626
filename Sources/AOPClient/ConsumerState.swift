/// A consumer as the connection's reader sees it: where its deliveries go and the batch being built
/// from the current read. Owned by the connection actor.
final class ConsumerState {
    let tag: String
    let tagBytes: [UInt8]
    let queue: LoopQueue<AMQPDeliveryBatch>
    var building: [DeliveryEntry] = []
    var extraBodies: [[UInt8]] = []
    /// True while it is on the connection's list of consumers with a batch in progress.
    var isTouched = false

    init(tag: String, queue: LoopQueue<AMQPDeliveryBatch>) {
        self.tag = tag
        self.tagBytes = Array(tag.utf8)
        self.queue = queue
    }

    /// Hands the deliveries gathered so far to the consumer's sequence as one batch.
    func flush(storage: [UInt8]) {
        guard !self.building.isEmpty else { return }
        self.queue.push(AMQPDeliveryBatch(storage: storage, entries: self.building, extraBodies: self.extraBodies))
        self.building = []
        self.extraBodies = []
    }
}
