import AOPBroker
import AOPStorage
import AOPWire
import Testing

@Suite struct QueueArgumentTests {
    /// A queue "src" dead-lettering to the fanout exchange "dlx", bound to queue "dead".
    func deadLetterSetup(_ extra: FieldTable = [:]) async throws -> VirtualHost {
        let v = try await makeVHost()
        try await v.declareExchange("dlx", "fanout")
        try await v.declare("dead")
        try await v.bind("dead", "dlx")
        var args: FieldTable = ["x-dead-letter-exchange": "dlx"]
        args.entries += extra.entries
        try await v.declare("src", arguments: args)
        return v
    }

    func drainDeliveries(_ v: VirtualHost, _ queue: String) async throws -> [Delivery] {
        let q = try await v.queue(named: queue, connectionID: 1)
        var out: [Delivery] = []
        while let d = try await q.get(noAck: true) { out.append(d) }
        return out
    }

    @Test func rejectDeadLettersWithXDeath() async throws {
        let v = try await deadLetterSetup(["x-dead-letter-routing-key": "dlk"])
        try await v.send("", [message("m", key: "src")])
        let q = try await v.queue(named: "src", connectionID: 1)
        let d = try #require(try await q.get(noAck: false))
        await q.settle([d.deliveryID], .reject)
        await waitUntil { (try? await v.messageCount("dead")) == 1 }
        let dead = try await drainDeliveries(v, "dead")
        #expect(dead.count == 1)
        let m = try #require(dead.first?.message)
        #expect(m.routingKey == "dlk")
        #expect(m.exchange == "dlx")
        let death = try #require(m.properties.headers?["x-death"]?.arrayValue?.first?.tableValue)
        #expect(death["reason"]?.stringValue == "rejected")
        #expect(death["queue"]?.stringValue == "src")
        #expect(death["exchange"]?.stringValue == "")
        #expect(death["count"]?.integerValue == 1)
        #expect(m.properties.headers?["x-first-death-reason"]?.stringValue == "rejected")
        #expect(try await v.messageCount("src") == 0)
    }

    @Test func messageTTLExpiresAndDeadLettersWithoutConsumer() async throws {
        let v = try await deadLetterSetup(["x-message-ttl": 30])
        try await v.send("", [message("a", key: "src"), message("b", key: "src")])
        await waitUntil { (try? await v.messageCount("dead")) == 2 }
        #expect(try await v.messageCount("src") == 0)
        let dead = try await drainDeliveries(v, "dead")
        #expect(dead.map { String(decoding: $0.message.body, as: UTF8.self) } == ["a", "b"])
        let death = dead.first?.message.properties.headers?["x-death"]?.arrayValue?.first?.tableValue
        #expect(death?["reason"]?.stringValue == "expired")
    }

    @Test func zeroTTLGoesToAReadyConsumerElseExpires() async throws {
        let v = try await deadLetterSetup(["x-message-ttl": 0])
        try await v.send("", [message("nobody", key: "src")])
        await waitUntil { (try? await v.messageCount("dead")) == 1 }
        #expect(try await v.messageCount("dead") == 1)
        let sink = TestSink()
        let q = try await v.queue(named: "src", connectionID: 1)
        try await q.consume(consumer("c", sink: sink, noAck: true))
        try await v.send("", [message("ready", key: "src")])
        await sink.wait(for: 1)
        #expect(sink.bodies == ["ready"])
    }

    @Test func perMessageExpirationAtHead() async throws {
        let v = try await deadLetterSetup()
        try await v.send("", [message("short", key: "src", expiration: "20"), message("long", key: "src")])
        await waitUntil { (try? await v.messageCount("dead")) == 1 }
        #expect(try await v.drain("src") == ["long"])
        let dead = try await drainDeliveries(v, "dead")
        #expect(dead.first?.message.properties.expiration == nil)
        let death = dead.first?.message.properties.headers?["x-death"]?.arrayValue?.first?.tableValue
        #expect(death?["original-expiration"]?.stringValue == "20")
    }

    @Test func maxLengthDropHeadDeadLettersOldest() async throws {
        let v = try await deadLetterSetup(["x-max-length": 2])
        let outcomes = try await v.send("", (0..<4).map { message("\($0)", key: "src") })
        #expect(outcomes == [.routed, .routed, .routed, .routed])
        #expect(try await v.messageCount("src") == 2)
        await waitUntil { (try? await v.messageCount("dead")) == 2 }
        let dead = try await drainDeliveries(v, "dead")
        #expect(dead.map { String(decoding: $0.message.body, as: UTF8.self) } == ["0", "1"])
        #expect(dead.first?.message.properties.headers?["x-death"]?.arrayValue?.first?.tableValue?["reason"]?.stringValue == "maxlen")
        #expect(try await v.drain("src") == ["2", "3"])
    }

    @Test func maxLengthRejectPublish() async throws {
        let v = try await makeVHost()
        try await v.declare("q", arguments: ["x-max-length": 2, "x-overflow": "reject-publish"])
        let outcomes = try await v.send("", (0..<3).map { message("\($0)", key: "q") })
        #expect(outcomes == [.routed, .routed, .rejected])
        #expect(try await v.drain("q") == ["0", "1"])
        #expect(try await v.send("", [message("3", key: "q")]) == [.routed])
    }

    @Test func maxLengthRejectPublishDLX() async throws {
        let v = try await deadLetterSetup(["x-max-length": 1, "x-overflow": "reject-publish-dlx"])
        let outcomes = try await v.send("", [message("kept", key: "src"), message("refused", key: "src")])
        #expect(outcomes == [.routed, .rejected])
        await waitUntil { (try? await v.messageCount("dead")) == 1 }
        let dead = try await drainDeliveries(v, "dead")
        #expect(dead.map { String(decoding: $0.message.body, as: UTF8.self) } == ["refused"])
        #expect(try await v.drain("src") == ["kept"])
    }

    @Test func maxLengthBytesDropHead() async throws {
        let v = try await makeVHost()
        try await v.declare("q", arguments: ["x-max-length-bytes": 10])
        try await v.send("", [message("aaaa", key: "q"), message("bbbb", key: "q"), message("cccc", key: "q")])
        #expect(try await v.drain("q") == ["bbbb", "cccc"])
    }

    @Test func priorityQueueDeliversHigherFirst() async throws {
        let v = try await makeVHost()
        try await v.declare("p", arguments: ["x-max-priority": 5])
        try await v.send("", [message("low", key: "p", priority: 0), message("high", key: "p", priority: 5),
                              message("mid", key: "p", priority: 2), message("over", key: "p", priority: 9),
                              message("none", key: "p")])
        #expect(try await v.messageCount("p") == 5)
        #expect(try await v.drain("p") == ["high", "over", "mid", "low", "none"])
    }

    @Test func queueExpiresWhenUnused() async throws {
        let v = try await makeVHost()
        try await v.declare("tmp", arguments: ["x-expires": 40])
        await waitUntil { (try? await v.queue(named: "tmp", connectionID: 1)) == nil }
        await expectError(404) { _ = try await v.queue(named: "tmp", connectionID: 1) }
    }

    @Test func invalidArgumentsAreRefused() async throws {
        let v = try await makeVHost()
        await expectError(406) { try await v.declare("q", arguments: ["x-message-ttl": -1]) }
        await expectError(406) { try await v.declare("q", arguments: ["x-overflow": "nope"]) }
    }
}
