import AOPWire
import AOPStorage

extension VirtualHost {
    func exchangeDeclare(name: String, type typeName: String, passive: Bool, durable: Bool, autoDelete: Bool,
                         internal: Bool, arguments: FieldTable) async throws(AMQPError) {
        if passive {
            guard self.exchanges[name] != nil else { throw self.noExchange(name) }
            return
        }
        if name.isEmpty { throw self.defaultExchangeRefused }
        guard let type = ExchangeType(rawValue: typeName) else {
            throw .commandInvalid("unknown exchange type '\(typeName)'")
        }
        if let existing = self.exchanges[name] {
            try self.assertEquivalent(existing.definition, type: type, durable: durable, autoDelete: autoDelete,
                                      internal: `internal`, arguments: arguments)
            return
        }
        if name.hasPrefix("amq.") {
            throw .accessRefused("exchange name '\(name)' contains reserved prefix 'amq.*'")
        }
        _ = try ExchangeArguments(parsing: arguments, exchange: name, vhost: self.name)
        let definition = ExchangeDefinition(name: name, type: type, durable: durable, autoDelete: autoDelete,
                                            isInternal: `internal`, arguments: arguments)
        let actor = try await self.openExchange(definition)
        if let existing = self.exchanges[name] {   // declared concurrently while we awaited
            try self.assertEquivalent(existing.definition, type: type, durable: durable, autoDelete: autoDelete,
                                      internal: `internal`, arguments: arguments)
            return
        }
        self.exchanges[name] = ExchangeEntry(definition: definition, router: AnyRouter(type), actor: actor)
        if durable {
            try await self.storageCall { () async throws(StorageError) in try await self.definitions.save(definition) }
        }
    }

    private func assertEquivalent(_ d: ExchangeDefinition, type: ExchangeType, durable: Bool, autoDelete: Bool,
                                  internal: Bool, arguments: FieldTable) throws(AMQPError) {
        let resource = self.exchangeResource(d.name)
        if d.type != type { throw Self.inequivalent("type", resource, received: type.rawValue, current: d.type.rawValue) }
        if d.durable != durable { throw Self.inequivalent("durable", resource, received: durable, current: d.durable) }
        if d.autoDelete != autoDelete {
            throw Self.inequivalent("auto_delete", resource, received: autoDelete, current: d.autoDelete)
        }
        if d.isInternal != `internal` { throw Self.inequivalent("internal", resource, received: `internal`, current: d.isInternal) }
        var current = ExchangeArguments()
        current.raw = d.arguments
        try current.assertEquivalent(to: arguments, exchange: d.name, vhost: self.name)
    }

    func exchangeDelete(name: String, ifUnused: Bool) async throws(AMQPError) {
        if name.isEmpty { throw self.defaultExchangeRefused }
        if name.hasPrefix("amq."), Self.predeclared.contains(where: { $0.0 == name }) {
            throw .accessRefused("deletion of system \(self.exchangeResource(name)) not allowed")
        }
        guard let entry = self.exchanges[name] else { return }   // RabbitMQ: deleting a missing exchange is ok
        if ifUnused, !entry.router.isEmpty { throw .preconditionFailed("\(self.exchangeResource(name)) in use") }
        await self.removeExchange(name)
    }

    /// Removes an exchange with its bindings (as source and as destination); cascades auto-delete.
    func removeExchange(_ name: String) async {
        guard let entry = self.exchanges.removeValue(forKey: name) else { return }
        var removed: [(String, Binding)] = entry.router.bindings.map { (name, $0) }
        removed += self.unbindEverywhere(.exchange(name))
        if entry.definition.durable { try? await self.definitions.removeExchange(name) }
        for (source, binding) in removed { try? await self.definitions.remove(source: source, binding) }
        await self.autoDeleteEmptyExchanges(removed.map(\.0))
    }

    /// Removes every binding to `destination` from every exchange; returns them.
    func unbindEverywhere(_ destination: Destination) -> [(String, Binding)] {
        var removed: [(String, Binding)] = []
        for (source, entry) in self.exchanges {
            let matching = entry.router.bindings.filter { $0.destination == destination }
            guard !matching.isEmpty else { continue }
            _ = self.exchanges[source]!.router.unbindAll(destination: destination)
            removed += matching.map { (source, $0) }
        }
        return removed
    }

    /// Auto-delete exchanges go when their last binding (as source) is removed.
    func autoDeleteEmptyExchanges(_ names: [String]) async {
        for name in Set(names) {
            guard let e = self.exchanges[name], e.definition.autoDelete, e.router.isEmpty else { continue }
            await self.removeExchange(name)
        }
    }

    func exchangeBind(destination: String, source: String, routingKey: String, arguments: FieldTable,
                      bind: Bool) async throws(AMQPError) {
        if destination.isEmpty || source.isEmpty { throw self.defaultExchangeRefused }
        guard let dest = self.exchanges[destination] else { throw self.noExchange(destination) }
        guard self.exchanges[source] != nil else { throw self.noExchange(source) }
        let binding = Binding(destination: .exchange(destination), routingKey: routingKey, arguments: arguments)
        try await self.applyBinding(source: source, binding, bind: bind, destinationDurable: dest.definition.durable)
    }

    /// Adds or removes a binding on `source` and keeps the metadata in step.
    func applyBinding(source: String, _ binding: Binding, bind: Bool, destinationDurable: Bool) async throws(AMQPError) {
        guard let entry = self.exchanges[source] else { throw self.noExchange(source) }
        let durable = entry.definition.durable && destinationDurable
        if bind {
            try entry.router.validate(binding)
            guard self.exchanges[source]!.router.bind(binding) else { return }
            if durable {
                try await self.storageCall { () async throws(StorageError) in try await self.definitions.save(source: source, binding) }
            }
        } else {
            guard self.exchanges[source]!.router.unbind(binding) else { return }
            if durable { try? await self.definitions.remove(source: source, binding) }
            await self.autoDeleteEmptyExchanges([source])
        }
    }

    /// Creates the exchange's message topics (ids assigned once per topic name, persisted) and replicators.
    func openExchange(_ d: ExchangeDefinition) async throws(AMQPError) -> Exchange {
        do {
            let persistent = try await self.openSlot("exchange.\(self.name).\(d.name)", kind: .persistent)
            let transient = try await self.openSlot("exchange-transient.\(self.name).\(d.name)", kind: .nonPersistent)
            return Exchange(name: d.name, persistent: persistent, transient: transient,
                            executor: self.placement.forChild())
        } catch {
            throw Self.storageFailure(error)
        }
    }

    private func openSlot(_ topicName: String, kind: TopicKind) async throws(StorageError) -> MessageTopicSlot {
        let topic = try await self.storage.topic(named: topicName, kind: kind)
        let replicator = try await LocalTopicCalls.cursor(topic, named: MessageTopicSlot.replicatorName,
                                                          executor: self.placement)
        let id: UInt32
        if let known = self.topicIDs[topicName] {
            id = known
        } else {
            id = self.nextTopicID
            self.nextTopicID += 1
            self.topicIDs[topicName] = id
            try await self.definitions.saveTopicID(id, topic: topicName)
        }
        self.topics.register(topic, id: id)
        return MessageTopicSlot(id: id, topic: topic, replicator: replicator)
    }
}
