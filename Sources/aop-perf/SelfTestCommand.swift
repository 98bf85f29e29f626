import AOPIO
import ArgumentParser

/// `aop-perf self-test`: runs the null broker in-process and measures aop-perf's own publish-only and
/// consume-only ceilings.
struct SelfTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-test", abstract: "Measure aop-perf's own ceiling against an in-process null broker (JSON).")

    @Option(help: "Seconds per phase.") var duration = 5.0
    @Option(help: "Message body size.") var size = 16
    @Option(help: "Client io_uring loop threads.") var threads = 1

    func run() async throws {
        tuneMalloc()
        let loop = try RingLoop(name: "null-broker")
        let broker = try NullBroker(port: 0, bodySize: self.size, loop: loop)
        let serving = Task { await broker.serve() }
        let uri = "amqp://guest:guest@127.0.0.1:\(broker.port)/%2F"
        let common = ["--uri", uri, "--size", "\(self.size)", "--duration", "\(self.duration)", "--threads",
                      "\(self.threads)", "--warmup", "1"]
        printError("self-test: publish-only for \(self.duration) s")
        let publish = await PerfRun(options: try PerfOptions.parse(common + ["--producers", "1", "--consumers", "0"])).execute()
        printError("self-test: consume-only for \(self.duration) s")
        let consume = await PerfRun(options: try PerfOptions.parse(common + ["--producers", "0", "--consumers", "1",
                                                                             "--autoack"])).execute()
        broker.close()
        serving.cancel()
        let result = JSON.object([
            ("size", .int(self.size)), ("duration_s", .double(self.duration)),
            ("publish_msgs_per_s", publish.json.field("published_per_s")),
            ("publish_cpu_percent_of_one_core", publish.json.field("cpu", "percent_of_one_core")),
            ("consume_msgs_per_s", consume.json.field("consumed_per_s")),
            ("consume_cpu_percent_of_one_core", consume.json.field("cpu", "percent_of_one_core")),
            ("errors", .array((publish.errors + consume.errors).map { .string($0) })),
        ])
        printOutput(result.text)
        if !(publish.errors + consume.errors).isEmpty { throw ExitCode(1) }
    }
}
