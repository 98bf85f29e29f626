import Glibc

/// The consumer the last delivery of the current read went to. Deliveries of one read almost always go
/// to one consumer: matching its tag bytes here skips the channel and consumer lookups (and their
/// reference counting) for every message. Dropped whenever a method is processed (a cancel or close may
/// have removed the consumer).
struct DeliveryRoute {
    let channelID: UInt16
    let consumer: ConsumerState
    let tag: [UInt8]

    init(channelID: UInt16, consumer: ConsumerState) {
        self.channelID = channelID
        self.consumer = consumer
        self.tag = consumer.tagBytes
    }

    func matches(channel: UInt16, tag: UnsafeRawBufferPointer) -> Bool {
        guard channel == self.channelID, tag.count == self.tag.count else { return false }
        if tag.isEmpty { return true }
        return self.tag.withUnsafeBytes { memcmp($0.baseAddress!, tag.baseAddress!, tag.count) } == 0
    }
}
