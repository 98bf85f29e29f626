public import AOPBroker
public import AOPWire

extension EmbeddedBroker {
    /// exchange.declare. Types: `direct`, `fanout`, `topic`, `headers` (and `x-…` plugin types aop knows).
    /// - Parameters:
    ///   - name: the exchange name.
    ///   - type: `direct`, `fanout`, `topic` or `headers`.
    ///   - durable: survives a restart (with `.directory` storage).
    ///   - autoDelete: deleted when its last binding goes.
    ///   - internal: only reachable through exchange-to-exchange bindings (publishing to it → 403).
    ///   - passive: only check that it exists (404 otherwise).
    ///   - arguments: exchange arguments (`alternate-exchange`, …).
    ///   - virtualHost: the vhost (default `/`).
    /// - Throws: 406 for inequivalent re-declaration, 403 for `amq.*` names, 503 for unknown types.
    public func declareExchange(_ name: String, type: String = "direct", durable: Bool = true,
                                autoDelete: Bool = false, internal: Bool = false, passive: Bool = false,
                                arguments: FieldTable = [:], virtualHost: String = "/") async throws(EmbeddedBrokerError) {
        let vhost = try self.virtualHost(virtualHost)
        do {
            try await vhost.declareExchange(name: name, type: type, passive: passive, durable: durable,
                                            autoDelete: autoDelete, internal: `internal`, arguments: arguments)
        } catch { throw EmbeddedBrokerError(error) }
    }

    /// exchange.delete. `ifUnused` refuses (406) while it has bindings.
    public func deleteExchange(_ name: String, ifUnused: Bool = false,
                               virtualHost: String = "/") async throws(EmbeddedBrokerError) {
        let vhost = try self.virtualHost(virtualHost)
        do { try await vhost.deleteExchange(name: name, ifUnused: ifUnused) } catch { throw EmbeddedBrokerError(error) }
    }

    /// queue.declare. An empty name gets a server-named queue (`amq.gen-…`), returned in the result.
    /// Exclusive queues belong to the in-process side as a whole (TCP clients get 405) and are deleted at
    /// shutdown.
    /// - Returns: the queue's name, ready message count and consumer count.
    @discardableResult
    public func declareQueue(_ name: String = "", durable: Bool = true, exclusive: Bool = false,
                             autoDelete: Bool = false, passive: Bool = false, arguments: FieldTable = [:],
                             virtualHost: String = "/") async throws(EmbeddedBrokerError) -> QueueDeclareResult {
        let vhost = try self.virtualHost(virtualHost)
        do {
            return try await vhost.declareQueue(name: name, passive: passive, durable: durable, exclusive: exclusive,
                                                autoDelete: autoDelete, arguments: arguments,
                                                connectionID: EmbeddedRuntime.connectionID)
        } catch { throw EmbeddedBrokerError(error) }
    }

    /// queue.bind: routes messages published to `exchange` with a matching key (or headers) to `queue`.
    public func bindQueue(_ queue: String, to exchange: String, routingKey: String = "",
                          arguments: FieldTable = [:], virtualHost: String = "/") async throws(EmbeddedBrokerError) {
        let vhost = try self.virtualHost(virtualHost)
        do {
            try await vhost.bindQueue(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments,
                                      connectionID: EmbeddedRuntime.connectionID)
        } catch { throw EmbeddedBrokerError(error) }
    }

    /// queue.unbind.
    public func unbindQueue(_ queue: String, from exchange: String, routingKey: String = "",
                            arguments: FieldTable = [:], virtualHost: String = "/") async throws(EmbeddedBrokerError) {
        let vhost = try self.virtualHost(virtualHost)
        do {
            try await vhost.unbindQueue(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments,
                                        connectionID: EmbeddedRuntime.connectionID)
        } catch { throw EmbeddedBrokerError(error) }
    }

    /// exchange.bind: messages routed by `source` with a matching key also go through `destination`.
    public func bindExchange(_ destination: String, to source: String, routingKey: String = "",
                             arguments: FieldTable = [:], virtualHost: String = "/") async throws(EmbeddedBrokerError) {
        let vhost = try self.virtualHost(virtualHost)
        do {
            try await vhost.bindExchange(destination: destination, source: source, routingKey: routingKey,
                                         arguments: arguments)
        } catch { throw EmbeddedBrokerError(error) }
    }

    /// queue.purge: drops the ready messages (not those delivered and unsettled).
    /// - Returns: the number of messages purged.
    @discardableResult
    public func purgeQueue(_ name: String, virtualHost: String = "/") async throws(EmbeddedBrokerError) -> UInt32 {
        let vhost = try self.virtualHost(virtualHost)
        do {
            return try await vhost.purgeQueue(name: name, connectionID: EmbeddedRuntime.connectionID)
        } catch { throw EmbeddedBrokerError(error) }
    }

    /// queue.delete. Its consumers (in-process ones too: their sequences throw `.consumerCancelled`) are
    /// cancelled.
    /// - Returns: the number of messages deleted with it.
    @discardableResult
    public func deleteQueue(_ name: String, ifUnused: Bool = false, ifEmpty: Bool = false,
                            virtualHost: String = "/") async throws(EmbeddedBrokerError) -> UInt32 {
        let vhost = try self.virtualHost(virtualHost)
        do {
            return try await vhost.deleteQueue(name: name, ifUnused: ifUnused, ifEmpty: ifEmpty,
                                               connectionID: EmbeddedRuntime.connectionID)
        } catch { throw EmbeddedBrokerError(error) }
    }
}
