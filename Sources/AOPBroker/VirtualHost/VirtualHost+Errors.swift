import AOPWire
import AOPStorage

extension VirtualHost {
    func exchangeResource(_ name: String) -> String { "exchange '\(name)' in vhost '\(self.name)'" }
    func queueResource(_ name: String) -> String { "queue '\(name)' in vhost '\(self.name)'" }

    func noExchange(_ name: String) -> AMQPError { .notFound("no \(self.exchangeResource(name))") }
    func noQueue(_ name: String) -> AMQPError { .notFound("no \(self.queueResource(name))") }
    var defaultExchangeRefused: AMQPError { .accessRefused("operation not permitted on the default exchange") }

    func locked(_ name: String) -> AMQPError {
        .resourceLocked("cannot obtain exclusive access to locked \(self.queueResource(name)). It could be "
                        + "originally declared on another connection or the exclusive property value does not "
                        + "match that of the original declaration.")
    }

    static func inequivalent(_ arg: String, _ resource: String, received: Any, current: Any) -> AMQPError {
        .preconditionFailed("inequivalent arg '\(arg)' for \(resource): received '\(received)' but current is '\(current)'")
    }

    static func storageFailure(_ e: StorageError) -> AMQPError { .internalError("storage failure: \(e)") }
}
