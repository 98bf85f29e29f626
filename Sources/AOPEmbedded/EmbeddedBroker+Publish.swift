public import AOPBroker
public import AOPWire

extension EmbeddedBroker {
    /// Properties of a persistent message (delivery-mode 2): the default for ``publish(_:exchange:routingKey:properties:mandatory:virtualHost:)``.
    public static let persistent = BasicProperties(deliveryMode: 2)

    /// Publishes one message with publisher-confirm semantics: returns once it is enqueued, and — for a
    /// persistent message routed to durable queues on `.directory` storage — durable on disk.
    /// - Parameters:
    ///   - body: the message body.
    ///   - exchange: "" is the default exchange (routing key = queue name).
    ///   - properties: persistent (delivery-mode 2) unless given.
    ///   - routingKey: the routing key (for the default exchange: the queue name).
    ///   - mandatory: throw `.unroutable` (312 NO_ROUTE) when no queue receives it.
    ///   - virtualHost: the vhost (default `/`).
    /// - Returns: `.routed`, or `.unroutable` when it reached no queue and `mandatory` is false.
    /// - Throws: `.publishRejected` when a queue refused it (the case a confirm-mode client sees as
    ///   basic.nack); 404 for an unknown exchange; 403 for an internal one.
    @discardableResult
    public func publish(_ body: [UInt8], exchange: String = "", routingKey: String,
                        properties: BasicProperties = EmbeddedBroker.persistent, mandatory: Bool = false,
                        virtualHost: String = "/") async throws(EmbeddedBrokerError) -> PublishOutcome {
        let request = PublishRequest(
            message: Message(exchange: exchange, routingKey: routingKey, properties: properties, body: body),
            mandatory: mandatory)
        let outcomes = try await self.publish(batch: [request], exchange: exchange, virtualHost: virtualHost)
        switch outcomes.first {
        case .rejected?:
            throw EmbeddedBrokerError(kind: .publishRejected, replyCode: 0,
                                      message: "message to exchange '\(exchange)' was rejected (nack)")
        case .unroutable? where mandatory:
            let error = AMQPError(.noRoute, "message to exchange '\(exchange)' with routing key '\(routingKey)' is unroutable")
            throw EmbeddedBrokerError(kind: .unroutable, replyCode: error.code.replyCode, message: error.replyText,
                                      amqpError: error)
        case let outcome?:
            return outcome
        case nil:
            return .unroutable
        }
    }

    /// Publishes a batch to one exchange in one hop; returns one outcome per message, in order, once
    /// every persistent message routed to a durable queue is durable. Outcomes are not turned into
    /// errors here (mandatory is only recorded in the requests).
    public func publish(batch: [PublishRequest], exchange: String = "",
                        virtualHost: String = "/") async throws(EmbeddedBrokerError) -> [PublishOutcome] {
        let vhost = try self.virtualHost(virtualHost)
        let limit = try self.runtime().broker.configuration.maxMessageSize
        if let big = batch.first(where: { UInt64($0.message.body.count) > limit }) {
            throw EmbeddedBrokerError(AMQPError(.preconditionFailed,
                "message size \(big.message.body.count) is larger than configured max size \(limit)"))
        }
        do {
            return try await vhost.publish(exchange: exchange, batch)
        } catch { throw EmbeddedBrokerError(error) }
    }
}
