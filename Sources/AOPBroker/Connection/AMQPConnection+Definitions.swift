import AOPIO
import Logging
import AOPWire

extension AMQPConnection {
    func requireVirtualHost() throws(AMQPError) -> VirtualHost {
        guard let vhost = self.virtualHost else { throw AMQPError(.commandInvalid, "no virtual host open") }
        return vhost
    }

    /// Names are short strings; RabbitMQ rejects some characters only in specific places, so only
    /// the exchange and queue name length and the default-exchange rules are checked here.
    func handleExchangeMethod(channel id: UInt16, _ method: AMQPMethod) async throws(AMQPError) {
        let vhost = try self.requireVirtualHost()
        switch method {
        case .exchangeDeclare(let m):
            try await vhost.declareExchange(
                name: m.exchange, type: m.type, passive: m.passive, durable: m.durable,
                autoDelete: m.autoDelete, internal: m.internal, arguments: m.arguments
            )
            if !m.noWait { self.send { $0.writeMethodFrame(channel: id, .exchangeDeclareOk(ExchangeDeclareOk())) } }
        case .exchangeDelete(let m):
            try await vhost.deleteExchange(name: m.exchange, ifUnused: m.ifUnused)
            if !m.noWait { self.send { $0.writeMethodFrame(channel: id, .exchangeDeleteOk(ExchangeDeleteOk())) } }
        case .exchangeBind(let m):
            try await vhost.bindExchange(destination: m.destination, source: m.source,
                                         routingKey: m.routingKey, arguments: m.arguments)
            if !m.noWait { self.send { $0.writeMethodFrame(channel: id, .exchangeBindOk(ExchangeBindOk())) } }
        case .exchangeUnbind(let m):
            try await vhost.unbindExchange(destination: m.destination, source: m.source,
                                           routingKey: m.routingKey, arguments: m.arguments)
            if !m.noWait { self.send { $0.writeMethodFrame(channel: id, .exchangeUnbindOk(ExchangeUnbindOk())) } }
        default:
            preconditionFailure("not an exchange method")
        }
    }

    func handleQueueMethod(channel id: UInt16, _ method: AMQPMethod) async throws(AMQPError) {
        let vhost = try self.requireVirtualHost()
        switch method {
        case .queueDeclare(let m):
            let result = try await vhost.declareQueue(
                name: m.queue, passive: m.passive, durable: m.durable, exclusive: m.exclusive,
                autoDelete: m.autoDelete, arguments: m.arguments, connectionID: self.id
            )
            if !m.noWait {
                self.send {
                    $0.writeMethodFrame(channel: id, .queueDeclareOk(QueueDeclareOk(
                        queue: result.name, messageCount: result.messageCount, consumerCount: result.consumerCount
                    )))
                }
            }
        case .queueBind(let m):
            try await vhost.bindQueue(queue: m.queue, exchange: m.exchange, routingKey: m.routingKey,
                                      arguments: m.arguments, connectionID: self.id)
            if !m.noWait { self.send { $0.writeMethodFrame(channel: id, .queueBindOk(QueueBindOk())) } }
        case .queueUnbind(let m):
            try await vhost.unbindQueue(queue: m.queue, exchange: m.exchange, routingKey: m.routingKey,
                                        arguments: m.arguments, connectionID: self.id)
            self.send { $0.writeMethodFrame(channel: id, .queueUnbindOk(QueueUnbindOk())) }
        case .queuePurge(let m):
            let count = try await vhost.purgeQueue(name: m.queue, connectionID: self.id)
            if !m.noWait {
                self.send { $0.writeMethodFrame(channel: id, .queuePurgeOk(QueuePurgeOk(messageCount: count))) }
            }
        case .queueDelete(let m):
            let count = try await vhost.deleteQueue(name: m.queue, ifUnused: m.ifUnused, ifEmpty: m.ifEmpty,
                                                    connectionID: self.id)
            if !m.noWait {
                self.send { $0.writeMethodFrame(channel: id, .queueDeleteOk(QueueDeleteOk(messageCount: count))) }
            }
        default:
            preconditionFailure("not a queue method")
        }
    }
}
