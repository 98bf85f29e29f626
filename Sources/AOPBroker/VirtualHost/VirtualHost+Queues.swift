import AOPWire
import AOPStorage
import Logging

extension VirtualHost {
    func lookupQueue(_ name: String, connectionID: UInt64) throws(AMQPError) -> MessageQueue {
        guard let entry = self.queues[name] else { throw self.noQueue(name) }
        if let owner = entry.definition.exclusiveOwner, owner != connectionID { throw self.locked(name) }
        return entry.actor
    }

    func queueDeclare(name requested: String, passive: Bool, durable: Bool, exclusive: Bool, autoDelete: Bool,
                      arguments: FieldTable, connectionID: UInt64) async throws(AMQPError) -> QueueDeclareResult {
        let name = requested.isEmpty ? Self.serverQueueName() : requested
        if let entry = self.queues[name] {
            let queue = try self.lookupQueue(name, connectionID: connectionID)
            if !passive {
                let d = entry.definition
                let resource = self.queueResource(name)
                // RabbitMQ: asking for exclusivity on a queue that is not ours is a lock conflict.
                if exclusive, d.exclusiveOwner != connectionID { throw self.locked(name) }
                if d.durable != durable { throw Self.inequivalent("durable", resource, received: durable, current: d.durable) }
                if d.autoDelete != autoDelete {
                    throw Self.inequivalent("auto_delete", resource, received: autoDelete, current: d.autoDelete)
                }
                let current = try QueueArguments(parsing: d.arguments, queue: name, vhost: self.name)
                try current.assertEquivalent(to: arguments, queue: name, vhost: self.name)
            }
            await queue.touch()
            let counts = await queue.counts()
            return QueueDeclareResult(name: name, messageCount: counts.messages, consumerCount: counts.consumers)
        }
        if passive { throw self.noQueue(name) }
        if name.hasPrefix("amq."), !requested.isEmpty {
            throw .accessRefused("queue name '\(name)' contains reserved prefix 'amq.*'")
        }
        let parsed = try QueueArguments(parsing: arguments, queue: name, vhost: self.name)
        if self.creatingQueues[name] != nil {
            // Being created by a concurrent declare (its topics are being set up): wait, then redeclare.
            await withCheckedContinuation { continuation in
                // Tested again in the body: the creation may have finished between the call and here.
                if self.creatingQueues[name] != nil {
                    self.creatingQueues[name]!.append(continuation)
                } else {
                    continuation.resume()
                }
            }
            return try await self.queueDeclare(name: name, passive: passive, durable: durable, exclusive: exclusive,
                                               autoDelete: autoDelete, arguments: arguments, connectionID: connectionID)
        }
        let definition = QueueDefinition(name: name, durable: durable, exclusiveOwner: exclusive ? connectionID : nil,
                                         autoDelete: autoDelete, arguments: arguments)
        self.creatingQueues[name] = []
        let opened: MessageQueue
        do {
            opened = try await self.openQueue(definition, policy: QueuePolicy(parsed), fresh: true)
        } catch {
            self.finishCreating(name)
            throw error
        }
        self.queues[name] = QueueEntry(definition: definition, actor: opened)
        self.finishCreating(name)
        if durable, !exclusive {
            try await self.storageCall { () async throws(StorageError) in try await self.definitions.save(definition) }
        }
        return QueueDeclareResult(name: name, messageCount: 0, consumerCount: 0)
    }

    private func finishCreating(_ name: String) {
        for waiter in self.creatingQueues.removeValue(forKey: name) ?? [] { waiter.resume() }
    }

    /// `amq.gen-` + 22 base64url characters (RabbitMQ's shape for server-named queues).
    static func serverQueueName() -> String {
        "amq.gen-" + RandomName.make(length: 22)
    }

    func openQueue(_ definition: QueueDefinition, policy: QueuePolicy, fresh: Bool) async throws(AMQPError) -> MessageQueue {
        do {
            let executor = self.placement.forChild()
            let opened = try await MessageQueue.openLevels(storage: self.storage, vhost: self.name,
                                                           definition: definition, policy: policy, fresh: fresh,
                                                           executor: executor, messageTopics: self.topics)
            let queue = MessageQueue(definition: definition, policy: policy, vhost: self, vhostName: self.name,
                                     storage: self.storage, topics: self.topics, levels: opened.levels,
                                     executor: executor)
            await queue.restore(readyCount: opened.readyCount, readyBytes: opened.readyBytes,
                                lastIndexed: opened.lastIndexed)
            return queue
        } catch {
            throw Self.storageFailure(error)
        }
    }

    func queueBind(queue: String, exchange: String, routingKey: String, arguments: FieldTable,
                   connectionID: UInt64, bind: Bool) async throws(AMQPError) {
        guard let entry = self.queues[queue] else { throw self.noQueue(queue) }
        _ = try self.lookupQueue(queue, connectionID: connectionID)
        if exchange.isEmpty { throw self.defaultExchangeRefused }
        guard self.exchanges[exchange] != nil else { throw self.noExchange(exchange) }
        let binding = Binding(destination: .queue(queue), routingKey: routingKey, arguments: arguments)
        let durable = entry.definition.durable && entry.definition.exclusiveOwner == nil
        try await self.applyBinding(source: exchange, binding, bind: bind, destinationDurable: durable)
    }

    func queueDelete(name: String, ifUnused: Bool, ifEmpty: Bool, connectionID: UInt64) async throws(AMQPError) -> UInt32 {
        guard self.queues[name] != nil else { return 0 }   // RabbitMQ: deleting a missing queue is ok
        let queue = try self.lookupQueue(name, connectionID: connectionID)
        if ifUnused, await queue.consumerCount > 0 { throw .preconditionFailed("\(self.queueResource(name)) in use") }
        if ifEmpty, await !queue.isEmpty { throw .preconditionFailed("\(self.queueResource(name)) not empty") }
        return await self.removeQueue(queue, reason: "deleted")
    }

    /// Removes a queue (delete, auto-delete, x-expires, exclusive owner gone): bindings, definition, state.
    @discardableResult
    func removeQueue(_ queue: MessageQueue, reason: String) async -> UInt32 {
        guard let entry = self.queues[queue.name], entry.actor === queue else { return 0 }
        self.queues[queue.name] = nil
        let removed = self.unbindEverywhere(.queue(queue.name))
        let durable = entry.definition.durable && entry.definition.exclusiveOwner == nil
        if durable {
            try? await self.definitions.removeQueue(queue.name)
            for (source, binding) in removed { try? await self.definitions.remove(source: source, binding) }
        }
        self.logger.debug("queue removed", metadata: ["queue": "\(queue.name)", "reason": "\(reason)"])
        let count = await queue.shutdown()
        await self.autoDeleteEmptyExchanges(removed.map(\.0))
        return count
    }
}
