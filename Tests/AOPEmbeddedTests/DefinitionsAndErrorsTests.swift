import AOPEmbedded
import Testing

@Suite struct DefinitionsAndErrorsTests {
    @Test func declareBindPublishRoutesThroughTopicExchange() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareExchange("events", type: "topic")
            try await broker.declareQueue("eu")
            try await broker.declareQueue("all")
            try await broker.bindQueue("eu", to: "events", routingKey: "eu.*")
            try await broker.bindQueue("all", to: "events", routingKey: "#")
            #expect(try await broker.publish(bytes("a"), exchange: "events", routingKey: "eu.de") == .routed)
            #expect(try await broker.publish(bytes("b"), exchange: "events", routingKey: "us.ny") == .routed)
            #expect(try await broker.counts("eu").messages == 1)
            #expect(try await broker.counts("all").messages == 2)
            try await broker.unbindQueue("all", from: "events", routingKey: "#")
            #expect(try await broker.publish(bytes("c"), exchange: "events", routingKey: "us.ny") == .unroutable)
            #expect(try await broker.purgeQueue("all") == 2)
            #expect(try await broker.deleteQueue("eu") == 1)
        }
    }

    @Test func serverNamedQueue() async throws {
        try await EmbeddedBroker.with { broker in
            let q = try await broker.declareQueue("", exclusive: true)
            #expect(q.name.hasPrefix("amq.gen-"))
            try await broker.publish(bytes("x"), routingKey: q.name)
            #expect(try await broker.counts(q.name).messages == 1)
        }
    }

    @Test func errorsCarryReplyCodes() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("q", durable: true)

            let notFound = await #expect(throws: EmbeddedBrokerError.self) { _ = try await broker.get(queue: "nope") }
            #expect(notFound?.replyCode == 404)
            #expect(notFound?.kind == .refused)
            #expect(notFound?.amqpError?.code == .notFound)

            let inequivalent = await #expect(throws: EmbeddedBrokerError.self) {
                try await broker.declareQueue("q", durable: false)
            }
            #expect(inequivalent?.replyCode == 406)

            let noExchange = await #expect(throws: EmbeddedBrokerError.self) {
                try await broker.publish(bytes("x"), exchange: "missing", routingKey: "q")
            }
            #expect(noExchange?.replyCode == 404)

            let unroutable = await #expect(throws: EmbeddedBrokerError.self) {
                try await broker.publish(bytes("x"), routingKey: "no-such-queue", mandatory: true)
            }
            #expect(unroutable?.kind == .unroutable)
            #expect(unroutable?.replyCode == 312)

            let badVhost = await #expect(throws: EmbeddedBrokerError.self) {
                try await broker.declareQueue("q", virtualHost: "nowhere")
            }
            #expect(badVhost?.replyCode == 530)

            let reserved = await #expect(throws: EmbeddedBrokerError.self) {
                try await broker.declareExchange("amq.mine", type: "direct")
            }
            #expect(reserved?.replyCode == 403)
        }
    }

    @Test func rejectPublishOverflowThrowsPublishRejected() async throws {
        try await EmbeddedBroker.with { broker in
            try await broker.declareQueue("bounded", arguments: ["x-max-length": .int32(1), "x-overflow": "reject-publish"])
            try await broker.publish(bytes("1"), routingKey: "bounded")
            let rejected = await #expect(throws: EmbeddedBrokerError.self) {
                try await broker.publish(bytes("2"), routingKey: "bounded")
            }
            #expect(rejected?.kind == .publishRejected)
            #expect(try await broker.counts("bounded").messages == 1)
        }
    }

    @Test func operationsBeforeStartAndAfterShutdownThrowNotRunning() async throws {
        let broker = EmbeddedBroker()
        let before = await #expect(throws: EmbeddedBrokerError.self) { try await broker.declareQueue("q") }
        #expect(before?.kind == .notRunning)
        #expect(before?.replyCode == 320)
        try await broker.start()
        try await broker.start()   // idempotent
        #expect(broker.isRunning)
        try await broker.declareQueue("q")
        await broker.shutdown()
        await broker.shutdown()    // idempotent
        #expect(!broker.isRunning)
        let after = await #expect(throws: EmbeddedBrokerError.self) {
            try await broker.publish(bytes("x"), routingKey: "q")
        }
        #expect(after?.kind == .notRunning)
        let restart = await #expect(throws: EmbeddedBrokerError.self) { try await broker.start() }
        #expect(restart?.kind == .notRunning)
    }

    @Test func unusableStorageDirectoryFailsStart() async throws {
        let broker = EmbeddedBroker(configuration: EmbeddedConfiguration(storage: .directory("/proc/aop-embedded-cannot-exist")))
        let e = await #expect(throws: EmbeddedBrokerError.self) { try await broker.start() }
        #expect(e?.kind == .startFailed)
        #expect(e?.replyCode == 541)
        #expect(!broker.isRunning)
    }

    @Test func listenerOnABusyPortFailsStart() async throws {
        try await EmbeddedBroker.with(configuration: EmbeddedConfiguration(listeners: [.init()])) { first in
            let port = try #require(first.listenerPorts.first)
            let second = EmbeddedBroker(configuration: EmbeddedConfiguration(listeners: [.init(port: port)]))
            let e = await #expect(throws: EmbeddedBrokerError.self) { try await second.start() }
            #expect(e?.kind == .startFailed)
            #expect(first.isRunning)
        }
    }

    @Test func scopedBrokerIsShutDownWhenBodyThrows() async throws {
        struct Boom: Error {}
        let escaped = Escaped()
        await #expect(throws: Boom.self) {
            try await EmbeddedBroker.with { broker in
                escaped.broker = broker
                throw Boom()
            }
        }
        #expect(escaped.broker?.isRunning == false)
    }
}

/// Lets a test look at the broker after its scope ended.
final class Escaped: @unchecked Sendable {
    // Safe: written once inside the scope and read after it returned, on the same task.
    var broker: EmbeddedBroker?
}
