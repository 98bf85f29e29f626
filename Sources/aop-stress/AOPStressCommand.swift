import AOPStress
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

@main
struct AOPStressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aop-stress",
        abstract: "Drives an AMQP 0-9-1 broker with N connections × M channels of seeded random operations and checks invariants.",
        discussion: """
            Every channel runs a seeded stream of declare/bind/unbind/delete, publish (confirms, mandatory), \
            consume, get, ack/nack/reject (requeue or not), recover, qos, cancel, channel close and connection \
            close/abort. At the end the stable queues are drained and the invariants checked (Docs/Testing.md). \
            Prints a JSON summary on stdout and the violations (with the seed) on stderr; exits 1 on any violation.
            """
    )

    @Option(help: "Broker host.") var host = "127.0.0.1"
    @Option(help: "Broker port.") var port: UInt16 = 5672
    @Option(help: "User.") var user = "guest"
    @Option(help: "Password.") var password = "guest"
    @Option(help: "Virtual host.") var vhost = "/"
    @Option(help: "Connections.") var connections = 4
    @Option(help: "Channels per connection.") var channels = 4
    @Option(help: "Seconds of operations (then drain and check).") var duration = 30.0
    @Option(help: "Seed of the operation streams (random when omitted; printed).") var seed: UInt64?
    @Option(help: "Largest filler after the 28-byte stamp of a message body.") var bodySize = 64
    @Option(help: "Largest number of messages of one publish operation.") var maxBatch = 20
    @Option(help: "Weight of connection close and of connection abort among operations (0: none).")
    var connectionChurn = 1
    @Option(help: "Milliseconds each channel waits between operations.") var opDelayMs = 0.0
    @Option(help: "Pid of the broker, to compare its RSS before and after.") var brokerPid: Int32?
    @Option(help: "RSS growth (MiB) still counted as 'returned near its start'.") var rssSlackMib: UInt64 = 64
    @Option(help: "Seconds the final drain may take.") var drainTimeout = 120.0
    @Option(help: "Client io_uring threads.") var clientThreads = 1
    @Flag(help: "Keep the run's queues and exchanges.") var keep = false
    @Option(help: "Violations printed per kind.") var printLimit = 10
    @Option(help: "Write every event to this file (one per line) for debugging.") var eventsFile: String?
    @Option(help: "Seconds an operation may wait for the broker before its connection is aborted.")
    var operationTimeout = 15.0
    @Flag(help: "Count operations that got no reply within --operation-timeout as violations.")
    var stallsAreViolations = false

    func run() async throws {
        var settings = StressSettings()
        settings.host = self.host
        settings.port = self.port
        settings.user = self.user
        settings.password = self.password
        settings.virtualHost = self.vhost
        settings.connections = max(1, self.connections)
        settings.channels = max(1, self.channels)
        settings.duration = .milliseconds(Int64(self.duration * 1000))
        var clockSeeded = StressRandom(seed: UInt64(UInt(bitPattern: time(nil))) ^ UInt64(getpid()))
        settings.seed = self.seed ?? clockSeeded.next()
        settings.bodySize = max(0, self.bodySize)
        settings.maxBatch = max(1, self.maxBatch)
        settings.connectionChurn = max(0, self.connectionChurn)
        settings.opDelay = .microseconds(Int64(self.opDelayMs * 1000))
        settings.brokerPID = self.brokerPid
        settings.rssSlackBytes = self.rssSlackMib << 20
        settings.drainTimeout = .milliseconds(Int64(self.drainTimeout * 1000))
        settings.clientThreads = max(1, self.clientThreads)
        settings.keep = self.keep
        settings.printLimit = self.printLimit
        settings.eventsFile = self.eventsFile
        settings.stallsAreViolations = self.stallsAreViolations
        settings.operationTimeout = .milliseconds(Int64(self.operationTimeout * 1000))
        settings.trace = getenv("AOP_STRESS_TRACE").map { String(cString: $0) == "1" } ?? false
        stderr("aop-stress: seed \(settings.seed), \(settings.connections) connections × \(settings.channels) channels, "
            + "\(self.duration) s against \(settings.host):\(settings.port)\n")

        let report = try await StressRun(options: settings).run()
        print(Summary.json(report, settings: settings))
        if let path = settings.eventsFile, let file = fopen(path, "w") {
            for event in report.events { fputs("\(event)\n", file) }
            fclose(file)
        }
        if !report.violations.isEmpty {
            let byKind = Dictionary(grouping: report.violations, by: \.kind)
            for kind in Violation.Kind.allCases {
                guard let list = byKind[kind] else { continue }
                stderr("VIOLATION \(kind.rawValue) ×\(list.count) (seed \(settings.seed)):\n")
                for violation in list.prefix(settings.printLimit) { stderr("  \(violation.detail)\n") }
            }
            stderr("aop-stress: \(report.violations.count) violation(s); reproduce the operation streams with --seed \(settings.seed) "
                + "--connections \(settings.connections) --channels \(settings.channels)\n")
            throw ExitCode(1)
        }
        stderr("aop-stress: no violations (seed \(settings.seed))\n")
    }
}

/// Writes straight to fd 2.
func stderr(_ text: String) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
