import AOPEmbedded
import Foundation
import Testing

/// python3 with pika is installed.
let pikaAvailable: Bool = (try? PikaInteropTests.python("import pika")) != nil

/// A message published in-process is consumed by pika over TCP, and the other way round.
@Suite(.enabled(if: pikaAvailable, "needs python3 with pika (Scripts/test-all installs it)"))
struct PikaInteropTests {
    /// Runs `python3 -c script args…`; returns its stdout, throws when it exits non-zero.
    static func python(_ script: String, _ arguments: [String] = []) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailed(status: process.terminationStatus, stderr: String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }

    struct PythonFailed: Error, CustomStringConvertible {
        var status: Int32
        var stderr: String
        var description: String { "python exited \(self.status): \(self.stderr)" }
    }

    /// Runs the python script off the cooperative pool (it blocks while the broker serves it).
    static func runPython(_ script: String, _ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { c in
            Thread.detachNewThread {
                c.resume(with: Result { try python(script, arguments) })
            }
        }
    }

    static let pikaScript = """
    import sys, pika
    port = int(sys.argv[1])
    conn = pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1", port=port, connection_attempts=3))
    ch = conn.channel()
    ch.confirm_delivery()
    # in-process -> pika: consume what the Swift side published
    got = []
    for method, props, body in ch.consume("to-pika", inactivity_timeout=5):
        if method is None:
            break
        got.append((body.decode(), props.content_type, props.headers.get("origin") if props.headers else None))
        ch.basic_ack(method.delivery_tag)
        if len(got) == 3:
            break
    ch.cancel()
    # pika -> in-process: publish with confirms
    for i in range(3):
        ch.basic_publish("", "to-swift", ("from-pika-%d" % i).encode(),
                         pika.BasicProperties(delivery_mode=2, headers={"origin": "pika"}), mandatory=True)
    conn.close()
    print(repr(got))
    """

    @Test func messagesCrossBetweenInProcessAndTCPClients() async throws {
        let configuration = EmbeddedConfiguration(listeners: [.init(host: "127.0.0.1", port: 0)])
        try await EmbeddedBroker.with(configuration: configuration) { broker in
            let port = try #require(broker.listenerPorts.first)
            #expect(port != 0)
            try await broker.declareQueue("to-pika")
            try await broker.declareQueue("to-swift")
            for i in 0..<3 {
                try await broker.publish(bytes("from-swift-\(i)"), routingKey: "to-pika",
                                         properties: BasicProperties(contentType: "text/plain",
                                                                     headers: ["origin": "swift"], deliveryMode: 2))
            }
            let output = try await Self.runPython(Self.pikaScript, [String(port)])
            #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == """
            [('from-swift-0', 'text/plain', 'swift'), ('from-swift-1', 'text/plain', 'swift'), ('from-swift-2', 'text/plain', 'swift')]
            """)
            #expect(try await broker.counts("to-pika").messages == 0)

            var received: [String] = []
            try await broker.withConsumer(queue: "to-swift") { consumer in
                for try await d in consumer {
                    received.append(text(d.body))
                    #expect(d.properties.headers?["origin"] == "pika")
                    try await d.ack()
                    if received.count == 3 { break }
                }
            }
            #expect(received == ["from-pika-0", "from-pika-1", "from-pika-2"])
        }
    }

    @Test func shutdownClosesTCPClientsWithConnectionForced() async throws {
        let configuration = EmbeddedConfiguration(listeners: [.init()])
        let broker = EmbeddedBroker(configuration: configuration)
        try await broker.start()
        let port = try #require(broker.listenerPorts.first)
        try await broker.declareQueue("idle")
        let script = """
        import sys, pika
        conn = pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1", port=int(sys.argv[1])))
        ch = conn.channel()
        ch.basic_consume("idle", lambda *a: None)
        print("ready", flush=True)
        try:
            ch.start_consuming()
        except pika.exceptions.ConnectionClosedByBroker as e:
            print(e.reply_code)
        """
        let client = Task { try await Self.runPython(script, [String(port)]) }
        #expect(await eventually { try await broker.counts("idle").consumers == 1 })
        await broker.shutdown()
        let output = try await client.value
        #expect(output.contains("320"))
    }
}
