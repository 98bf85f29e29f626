public import AOPWire

extension QueuePolicy {
    /// Resolves queue.declare arguments. Interim reader of the x-arguments the queue acts on; argument
    /// validation with RabbitMQ's 406 texts belongs to `QueueArguments` (routing work) and replaces this.
    init(arguments: FieldTable, queue: String, vhost: String) throws(AMQPError) {
        func int(_ key: String) throws(AMQPError) -> Int64? {
            guard let value = arguments[key] else { return nil }
            guard let n = value.integerValue else {
                throw .preconditionFailed("invalid arg '\(key)' for queue '\(queue)' in vhost '\(vhost)'")
            }
            guard n >= 0 else {
                throw .preconditionFailed(
                    "invalid arg '\(key)' for queue '\(queue)' in vhost '\(vhost)': {value_negative,\(n)}")
            }
            return n
        }
        self.init()
        self.messageTTL = try int("x-message-ttl")
        self.expires = try int("x-expires")
        if self.expires == 0 {
            throw .preconditionFailed("invalid arg 'x-expires' for queue '\(queue)' in vhost '\(vhost)': {value_zero,0}")
        }
        self.maxLength = try int("x-max-length")
        self.maxLengthBytes = try int("x-max-length-bytes")
        if let p = try int("x-max-priority") { self.maxPriority = UInt8(min(p, 255)) }
        switch arguments["x-overflow"]?.stringValue {
        case nil, "drop-head": self.overflow = .dropHead
        case "reject-publish": self.overflow = .rejectPublish
        case "reject-publish-dlx": self.overflow = .rejectPublishDLX
        case let other?:
            throw .preconditionFailed(
                "invalid arg 'x-overflow' for queue '\(queue)' in vhost '\(vhost)': {unknown_overflow,<<\"\(other)\">>}")
        }
        self.deadLetterExchange = arguments["x-dead-letter-exchange"]?.stringValue
        self.deadLetterRoutingKey = arguments["x-dead-letter-routing-key"]?.stringValue
        self.singleActiveConsumer = arguments["x-single-active-consumer"]?.boolValue ?? false
    }
}
