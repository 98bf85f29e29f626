import AOPWire
import AOPStorage

extension VirtualHost {
    /// Predeclared exchanges, then durable exchanges, queues and bindings from the metadata store.
    func restoreDefinitions() async throws(AMQPError) {
        let ids = try await self.storageCall { () async throws(StorageError) in
            try await self.definitions.loadTopicIDs()
        }
        for (topic, id) in ids {
            self.topicIDs[topic] = id
            self.nextTopicID = max(self.nextTopicID, id + 1)
            // Message topics of deleted exchanges may still hold messages queues refer to.
            let kind: TopicKind = topic.hasPrefix("exchange-transient.") ? .nonPersistent : .persistent
            let opened = try await self.storageCall { () async throws(StorageError) in
                try await self.storage.topic(named: topic, kind: kind)
            }
            self.topics.register(opened, id: id)
        }
        var restored = Self.predeclared.map {
            ExchangeDefinition(name: $0.0, type: $0.1, durable: true, autoDelete: false, isInternal: false,
                               arguments: [:])
        }
        restored += try await self.storageCall { () async throws(StorageError) in
            try await self.definitions.loadExchanges()
        }
        for d in restored where self.exchanges[d.name] == nil {
            let actor = try await self.openExchange(d)
            self.exchanges[d.name] = ExchangeEntry(definition: d, router: AnyRouter(d.type), actor: actor)
        }
        let queues = try await self.storageCall { () async throws(StorageError) in
            try await self.definitions.loadQueues()
        }
        for d in queues where self.queues[d.name] == nil {
            let parsed = try QueueArguments(parsing: d.arguments, queue: d.name, vhost: self.name)
            let queue = try await self.openQueue(d, policy: QueuePolicy(parsed), fresh: false)
            self.queues[d.name] = QueueEntry(definition: d, actor: queue)
        }
        let bindings = try await self.storageCall { () async throws(StorageError) in
            try await self.definitions.loadBindings()
        }
        for (source, binding) in bindings where self.exchanges[source] != nil {
            switch binding.destination {
            case .queue(let q) where self.queues[q] == nil: continue
            case .exchange(let e) where self.exchanges[e] == nil: continue
            default: _ = self.exchanges[source]!.router.bind(binding)
            }
        }
    }

    func storageCall<T>(_ body: () async throws(StorageError) -> T) async throws(AMQPError) -> T {
        do { return try await body() } catch { throw Self.storageFailure(error) }
    }

    /// Crash recovery: re-routes message-topic entries past each replicator. Queues skip entries they
    /// already hold, so a replay never duplicates.
    func recoverUnreplicated() async {
        for entry in self.exchanges.values {
            while true {
                let pending = await entry.actor.unreplicated(limit: 1024)
                guard !pending.isEmpty else { break }
                var items: [RoutedPublish] = []
                var positions: [Position] = []
                for (persistent, position, message) in pending {
                    // Undecodable or unroutable entries are committed with no destination.
                    var item = message.flatMap { self.prepare($0, exchange: entry.definition.name) }
                        ?? RoutedPublish(payload: [], persistent: persistent, queues: [], bodySize: 0,
                                         expiration: nil, priority: 0)
                    item.persistent = persistent
                    items.append(item)
                    positions.append(position)
                }
                await entry.actor.replay(items, positions: positions)
                if pending.count < 1024 { break }
            }
        }
    }
}
