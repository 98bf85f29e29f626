import AOPBroker
import AOPIO
import AOPServer
import AOPStorage
import ArgumentParser
import Logging
import ServiceLifecycle
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

@main
struct AOPServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aop-server",
        abstract: "An AMQP 0-9-1 broker (RabbitMQ dialect) storing messages in Pulsar-style logs.",
        version: Broker.version
    )

    @Option(name: .long, help: "Address to listen on.")
    var bind: String?

    @Option(name: .long, help: "TCP port to listen on (0 picks a free port). Default 5672.")
    var port: UInt16?

    @Option(name: .long, help: "Directory for messages and definitions (created if missing). Default ./data.")
    var dataDir: String?

    @Option(name: .long, help: "Configuration file (key = value lines; see Docs/Configuration.md).")
    var config: String?

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical. Default info.")
    var logLevel: String?

    @Option(name: .long, help: "Milliseconds a client has to complete the AMQP handshake. Default 10000.")
    var handshakeTimeout: Int64?

    @Option(name: .long, help: "Heartbeat interval (seconds) offered to clients; 0 disables. Default 60.")
    var heartbeat: UInt16?

    @Option(name: .long, help: .hidden)
    var socketFaults: String?

    func run() async throws {
        let mallocSettings = MallocTuning.apply()  // first: before the rings and storage allocate
        var configuration = ServerConfiguration()
        if let path = self.config {
            guard let text = try? readFile(path) else {
                throw ValidationError("cannot read configuration file '\(path)'")
            }
            do {
                try ConfigurationFile.apply(text, to: &configuration)
            } catch {
                throw ValidationError("\(path): \(error)")
            }
        }
        if let bind { configuration.bind = bind }
        if let port { configuration.port = port }
        if let dataDir { configuration.dataDirectory = dataDir }
        if let handshakeTimeout { configuration.broker.handshakeTimeout = .milliseconds(handshakeTimeout) }
        if let heartbeat { configuration.broker.heartbeat = heartbeat }
        if let spec = self.socketFaults ?? ProcessInfoEnvironment.value(of: "AOP_SOCKET_FAULTS") {
            // Stress testing only (Docs/Testing.md): short reads/writes, EAGAIN, resets mid-frame.
            do {
                configuration.socketFaults = try SocketFaults(spec: spec)
            } catch {
                throw ValidationError("--socket-faults: \(error)")
            }
        }
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw ValidationError("log level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
            }
            configuration.logLevel = level
        }
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "aop")
        if !mallocSettings.isEmpty { logger.debug("malloc: \(mallocSettings.joined(separator: ", "))") }
        raiseOpenFileLimit(logger: logger)

        do {
            try RingLoop.probe()
        } catch {
            writeStderr("aop-server: io_uring is not available on this system: \(error). "
                + "aop-server needs Linux io_uring (kernel 5.19+, not disabled by sysctl kernel.io_uring_disabled "
                + "or blocked by a seccomp profile).\n")
            throw ExitCode(2)
        }

        let finalConfiguration = configuration
        let service = BrokerService(
            configuration: configuration, logger: logger,
            makeStorage: { loops in try await openStorage(finalConfiguration, loops: loops, logger: logger) },
            onListening: { host, port in writeStderr("aop-server listening on \(host):\(port)\n") },
            onStarted: { broker in
                // SIGUSR1: one line per live connection (what it does and holds), for stuck-connection hunts,
                // then one per in-memory message topic holding messages (transient memory).
                Task {
                    for await _ in await UnixSignalsSequence(trapping: [.sigusr1]) {
                        let lines = await broker.connectionDiagnostics()
                        let topics = await broker.messageTopicDiagnostics()
                        writeStderr("aop-server: \(lines.count) connection(s)\n" + lines.map { $0 + "\n" }.joined()
                            + "aop-server: \(topics.count) in-memory message topic(s) holding messages\n"
                            + topics.map { $0 + "\n" }.joined())
                    }
                }
            }
        )
        let group = ServiceGroup(
            services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        )
        try await group.run()
    }
}

/// Writes straight to fd 2 (print is block-buffered when piped and lost on kill).
func writeStderr(_ s: String) {
    var bytes = Array(s.utf8)
    _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}

func readFile(_ path: String) throws -> String {
    guard let f = fopen(path, "r") else { throw ValidationError("cannot open \(path)") }
    defer { fclose(f) }
    var data: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n <= 0 { break }
        data.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: data, as: UTF8.self)
}

/// Environment lookups without Foundation.
enum ProcessInfoEnvironment {
    /// The value of the environment variable `name`, or nil when unset or empty.
    static func value(of name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        let value = String(cString: raw)
        return value.isEmpty ? nil : value
    }
}
