import AOPWire

/// The queue arguments a `MessageQueue` acts on, resolved from queue.declare arguments.
struct QueuePolicy: Hashable, Sendable {
    enum Overflow: Hashable, Sendable {
        case dropHead, rejectPublish, rejectPublishDLX
    }
    /// x-message-ttl in ms.
    var messageTTL: Int64?
    /// x-expires in ms.
    var expires: Int64?
    var maxLength: Int64?
    var maxLengthBytes: Int64?
    var overflow: Overflow = .dropHead
    var deadLetterExchange: String?
    var deadLetterRoutingKey: String?
    /// x-max-priority: number of priority levels is this + 1.
    var maxPriority: UInt8?
    var singleActiveConsumer: Bool = false

    var priorityLevels: Int { Int(self.maxPriority ?? 0) + 1 }
}
