import AOPWire

extension QueuePolicy {
    /// Resolves validated queue.declare arguments (`QueueArguments` raises RabbitMQ's 406s).
    init(_ arguments: QueueArguments) {
        self.init()
        self.messageTTL = arguments.messageTTL
        self.expires = arguments.expires
        self.maxLength = arguments.maxLength
        self.maxLengthBytes = arguments.maxLengthBytes
        switch arguments.effectiveOverflow {
        case .dropHead: self.overflow = .dropHead
        case .rejectPublish: self.overflow = .rejectPublish
        case .rejectPublishDLX: self.overflow = .rejectPublishDLX
        }
        self.deadLetterExchange = arguments.deadLetterExchange
        self.deadLetterRoutingKey = arguments.deadLetterRoutingKey
        self.maxPriority = arguments.maxPriority
        self.singleActiveConsumer = arguments.singleActiveConsumer
    }
}
