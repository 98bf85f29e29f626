public import AOPWire

extension AMQPClientChannel {
    /// `exchange.declare`. With `passive`, only checks that it exists (404 closes the channel if not).
    nonisolated(nonsending) public func exchangeDeclare(
        _ name: String, type: String = "direct", passive: Bool = false, durable: Bool = false,
        autoDelete: Bool = false, internal: Bool = false, arguments: FieldTable = [:]
    ) async throws(AMQPClientError) {
        _ = try await self.connection.rpc(self, .exchangeDeclare(ExchangeDeclare(
            exchange: name, type: type, passive: passive, durable: durable, autoDelete: autoDelete,
            internal: `internal`, arguments: arguments)), replies: [(40, 11)])
    }

    /// `exchange.delete`.
    nonisolated(nonsending) public func exchangeDelete(_ name: String, ifUnused: Bool = false) async throws(AMQPClientError) {
        _ = try await self.connection.rpc(self, .exchangeDelete(ExchangeDelete(exchange: name, ifUnused: ifUnused)),
                                          replies: [(40, 21)])
    }

    /// `exchange.bind`: messages reaching `source` with a matching key also go to `destination`.
    nonisolated(nonsending) public func exchangeBind(
        destination: String, source: String, routingKey: String = "", arguments: FieldTable = [:]
    ) async throws(AMQPClientError) {
        _ = try await self.connection.rpc(self, .exchangeBind(ExchangeBind(
            destination: destination, source: source, routingKey: routingKey, arguments: arguments)), replies: [(40, 31)])
    }

    /// `exchange.unbind`.
    nonisolated(nonsending) public func exchangeUnbind(
        destination: String, source: String, routingKey: String = "", arguments: FieldTable = [:]
    ) async throws(AMQPClientError) {
        _ = try await self.connection.rpc(self, .exchangeUnbind(ExchangeUnbind(
            destination: destination, source: source, routingKey: routingKey, arguments: arguments)), replies: [(40, 51)])
    }

    /// `queue.declare`; "" asks the server for a generated name (read it from the result).
    @discardableResult
    nonisolated(nonsending) public func queueDeclare(
        _ name: String = "", passive: Bool = false, durable: Bool = false, exclusive: Bool = false,
        autoDelete: Bool = false, arguments: FieldTable = [:]
    ) async throws(AMQPClientError) -> AMQPQueueDeclareResult {
        let reply = try await self.connection.rpc(self, .queueDeclare(QueueDeclare(
            queue: name, passive: passive, durable: durable, exclusive: exclusive, autoDelete: autoDelete,
            arguments: arguments)), replies: [(50, 11)])
        guard case .method(.queueDeclareOk(let ok)) = reply else {
            throw .protocolViolation("queue.declare-ok expected")
        }
        return AMQPQueueDeclareResult(name: ok.queue, messageCount: ok.messageCount, consumerCount: ok.consumerCount)
    }

    /// `queue.bind`.
    nonisolated(nonsending) public func queueBind(
        _ queue: String, exchange: String, routingKey: String = "", arguments: FieldTable = [:]
    ) async throws(AMQPClientError) {
        _ = try await self.connection.rpc(self, .queueBind(QueueBind(
            queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments)), replies: [(50, 21)])
    }

    /// `queue.unbind`.
    nonisolated(nonsending) public func queueUnbind(
        _ queue: String, exchange: String, routingKey: String = "", arguments: FieldTable = [:]
    ) async throws(AMQPClientError) {
        _ = try await self.connection.rpc(self, .queueUnbind(QueueUnbind(
            queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments)), replies: [(50, 51)])
    }

    /// `queue.purge`. - Returns: the number of messages removed.
    @discardableResult
    nonisolated(nonsending) public func queuePurge(_ queue: String) async throws(AMQPClientError) -> UInt32 {
        let reply = try await self.connection.rpc(self, .queuePurge(QueuePurge(queue: queue)), replies: [(50, 31)])
        guard case .method(.queuePurgeOk(let ok)) = reply else { throw .protocolViolation("queue.purge-ok expected") }
        return ok.messageCount
    }

    /// `queue.delete`. - Returns: the number of messages deleted with it.
    @discardableResult
    nonisolated(nonsending) public func queueDelete(
        _ queue: String, ifUnused: Bool = false, ifEmpty: Bool = false
    ) async throws(AMQPClientError) -> UInt32 {
        let reply = try await self.connection.rpc(self, .queueDelete(QueueDelete(
            queue: queue, ifUnused: ifUnused, ifEmpty: ifEmpty)), replies: [(50, 41)])
        guard case .method(.queueDeleteOk(let ok)) = reply else { throw .protocolViolation("queue.delete-ok expected") }
        return ok.messageCount
    }
}
