public import AOPWire

extension QueueArguments {
    /// Validates and parses queue.declare arguments for a new queue, in RabbitMQ's order: the channel's
    /// type check of `x-dead-letter-exchange`, then `x-queue-type`, then each argument the type takes
    /// (in `declare_args()` order), then arguments of other queue types. The first failure throws
    /// 406 PRECONDITION_FAILED with RabbitMQ's text, e.g.
    /// `invalid arg 'x-max-length' for queue 'q' in vhost '/': {value_negative,-1}`.
    public init(parsing arguments: FieldTable, queue: String, vhost: String,
                supportedTypes: Set<QueueType> = [.classic]) throws(AMQPError) {
        let resource = "queue '\(queue)' in vhost '\(vhost)'"
        if let dlx = arguments["x-dead-letter-exchange"], dlx.erlangBinary == nil || dlx.erlangTypeName != "longstr" {
            throw .preconditionFailed(
                "invalid type '\(dlx.erlangTypeName)' for arg 'x-dead-letter-exchange' in \(resource)")
        }
        func invalid(_ key: String, _ reason: String) -> AMQPError {
            .preconditionFailed("invalid arg '\(key)' for \(resource): \(reason)")
        }
        var type = QueueType.classic
        if let value = arguments["x-queue-type"] {
            if let reason = QueueArgumentChecks.queueType(value) { throw invalid("x-queue-type", reason) }
            let name = ErlangFormat.text(value.erlangBinary ?? [])
            guard let known = QueueType(rawValue: name), supportedTypes.contains(known) else {
                throw invalid("x-queue-type", ErlangFormat.charList("unsupported queue type '\(name)'"))
            }
            type = known
        }
        let taken = type.argumentKeys
        for (key, check) in QueueArgumentChecks.declareArguments where taken.contains(key) {
            guard let value = arguments[key] else { continue }
            if let reason = check(value, arguments) { throw invalid(key, reason) }
        }
        let foreign = Set(QueueType.allCases.flatMap(\.argumentKeys)).subtracting(taken)
        for entry in arguments.entries where foreign.contains(entry.key) {
            throw .preconditionFailed(
                "invalid arg '\(entry.key)' for \(resource) of queue type \(type.moduleName)")
        }

        self.init()
        self.raw = arguments
        self.queueType = type
        self.messageTTL = arguments["x-message-ttl"]?.erlangInteger
        self.expires = arguments["x-expires"]?.erlangInteger
        self.maxLength = arguments["x-max-length"]?.erlangInteger
        self.maxLengthBytes = arguments["x-max-length-bytes"]?.erlangInteger
        if let bytes = arguments["x-overflow"]?.erlangBinary {
            self.overflow = OverflowBehaviour(rawValue: ErlangFormat.text(bytes))
        }
        self.deadLetterExchange = arguments["x-dead-letter-exchange"]?.erlangBinary.map(ErlangFormat.text)
        self.deadLetterRoutingKey = arguments["x-dead-letter-routing-key"]?.erlangBinary.map(ErlangFormat.text)
        if let p = arguments["x-max-priority"]?.erlangInteger { self.maxPriority = UInt8(clamping: p) }
        self.singleActiveConsumer = arguments["x-single-active-consumer"]?.boolValue ?? false
        if let t = arguments["x-consumer-timeout"], t.isIntegerArgumentType { self.consumerTimeout = t.erlangInteger }
    }
}
