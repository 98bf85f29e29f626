import AOPIO
import ArgumentParser

/// `aop-perf null-broker`: a trivial broker to measure aop-perf's own ceiling.
struct NullBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "null-broker",
        abstract: "A trivial AMQP broker: answers the handshake and declares, swallows publishes, streams deliveries.")

    @Option(help: "Port to listen on (0 = pick one; printed on stderr).") var port: UInt16 = 0
    @Option(help: "Body size of the deliveries it streams.") var size = 16

    func run() async throws {
        tuneMalloc()
        raiseFileLimit()
        let loop = try RingLoop(name: "null-broker")
        let broker = try NullBroker(port: self.port, bodySize: self.size, loop: loop)
        printError("null-broker listening on 127.0.0.1:\(broker.port)")
        await broker.serve()
    }
}
