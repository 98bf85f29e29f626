import AOPIO

/// A trivial broker on one ring loop: every accepted connection gets a ``NullBrokerConnection``.
final class NullBroker: Sendable {
    let listener: TCPListener
    let bodySize: Int

    /// Binds 127.0.0.1:`port` (0 picks a free port).
    init(port: UInt16, bodySize: Int, loop: RingLoop) throws {
        self.listener = try TCPListener.bind(host: "127.0.0.1", port: port, on: loop)
        self.bodySize = bodySize
    }

    var port: UInt16 { self.listener.localPort }

    /// Accepts connections until the listener closes.
    func serve() async {
        for await tcp in self.listener.connections() {
            let connection = NullBrokerConnection(tcp: tcp, bodySize: self.bodySize)
            Task { await connection.serve() }
        }
    }

    func close() {
        self.listener.close()
    }
}
