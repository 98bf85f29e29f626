import ArgumentParser

/// The options of a load run (the CLI contract the comparison scripts rely on).
struct PerfOptions: ParsableArguments, Sendable {
    @Option(help: "Broker URI.") var uri = "amqp://guest:guest@127.0.0.1:5672/%2F"
    @Option(help: "Publishing connections.") var producers = 1
    @Option(help: "Consuming connections.") var consumers = 1
    @Option(help: "Queues q0..q{N-1} (named <prefix>-q<i>).") var queues = 1
    @Option(help: "Queue name prefix.") var queuePrefix = "aop-perf"
    @Option(help: "Message body size in bytes (>= 8 carries a send timestamp).") var size = 16
    @Flag(help: "Publish persistent messages (delivery mode 2).") var persistent = false
    @Flag(help: "Declare durable queues and exchange.") var durable = false
    @Option(help: "Publisher confirms in-flight window (0 = no confirms).") var confirm = 0
    @Flag(help: "Consume with no-ack.") var autoack = false
    @Option(help: "Prefetch per consumer (manual ack).") var prefetch = 256
    @Option(help: "Ack every N messages with multiple=true (manual ack).") var multiAck = 64
    @Option(help: "direct | fanout | topic.") var exchangeType = "direct"
    @Option(help: "Exchange name (\"\" = default exchange, direct only).") var exchange = ""
    @Flag(help: "Producer i and consumer i share one connection.") var sharedConnection = false
    @Option(help: "Total publish rate in msg/s (0 = unlimited).") var rate = 0
    @Option(help: "Seconds to run (after warmup).") var duration: Double?
    @Option(help: "Messages to publish in total (or to drain with --producers 0).") var count: Int?
    @Option(help: "Seconds of warmup excluded from the figures.") var warmup = 0.0
    @Option(help: "Idle connections to open and hold for --duration (memory runs).") var idleConnections = 0
    @Option(help: "Pause producers while published - consumed exceeds this (default 100000 with consumers).")
    var maxBacklog: Int?
    @Option(help: "io_uring loop threads for the client connections.") var threads = 1
    @Option(help: "Messages per publish batch.") var batch = 256

    var isFanout: Bool { self.exchangeType == "fanout" }

    /// Messages each published message turns into at the consumers.
    var fanoutFactor: Int { self.isFanout ? max(1, self.queues) : 1 }

    func validate() throws {
        guard self.producers >= 0, self.consumers >= 0, self.queues >= 1 else {
            throw ValidationError("--producers/--consumers must be >= 0 and --queues >= 1")
        }
        guard ["direct", "fanout", "topic"].contains(self.exchangeType) else {
            throw ValidationError("--exchange-type must be direct, fanout or topic")
        }
        if self.exchange.isEmpty, self.exchangeType != "direct" {
            throw ValidationError("--exchange-type \(self.exchangeType) needs --exchange NAME")
        }
        if self.producers == 0, self.consumers > 0, self.count == nil, self.duration == nil {
            throw ValidationError("--producers 0 needs --count (or --duration)")
        }
        guard self.size >= 0, self.batch >= 1, self.threads >= 1 else { throw ValidationError("bad --size/--batch/--threads") }
    }

    func queueName(_ index: Int) -> String { "\(self.queuePrefix)-q\(index)" }

    /// The options as a JSON object (for the summary's "config").
    var json: JSON {
        .object([
            ("uri", .string(self.uri)), ("producers", .int(self.producers)), ("consumers", .int(self.consumers)),
            ("queues", .int(self.queues)), ("queue_prefix", .string(self.queuePrefix)), ("size", .int(self.size)),
            ("persistent", .bool(self.persistent)), ("durable", .bool(self.durable)), ("confirm", .int(self.confirm)),
            ("autoack", .bool(self.autoack)), ("prefetch", .int(self.prefetch)), ("multi_ack", .int(self.multiAck)),
            ("exchange_type", .string(self.exchangeType)), ("exchange", .string(self.exchange)),
            ("shared_connection", .bool(self.sharedConnection)), ("rate", .int(self.rate)),
            ("duration", self.duration.map { .double($0) } ?? .null), ("count", self.count.map { .int($0) } ?? .null),
            ("warmup", .double(self.warmup)), ("idle_connections", .int(self.idleConnections)),
            ("max_backlog", self.maxBacklog.map { .int($0) } ?? .null), ("threads", .int(self.threads)),
            ("batch", .int(self.batch)),
        ])
    }
}
