import AOPBroker
import AOPStorage
import AOPWire
import Testing

@Suite struct ExchangeRoutingTests {
    @Test func defaultExchangeRoutesByQueueName() async throws {
        let v = try await makeVHost()
        try await v.declare("q1")
        let outcomes = try await v.send("", [message("a", key: "q1"), message("b", key: "nope")])
        #expect(outcomes == [.routed, .unroutable])
        #expect(try await v.drain("q1") == ["a"])
    }

    @Test func directFanoutTopicHeaders() async throws {
        let v = try await makeVHost()
        for q in ["d", "f1", "f2", "t", "h"] { try await v.declare(q) }
        try await v.bind("d", "amq.direct", "k")
        try await v.bind("f1", "amq.fanout")
        try await v.bind("f2", "amq.fanout")
        try await v.bind("t", "amq.topic", "a.*.c")
        try await v.bind("h", "amq.headers", arguments: ["x-match": "all", "color": "red"])
        #expect(try await v.send("amq.direct", [message("1", key: "k"), message("2", key: "x")]) == [.routed, .unroutable])
        #expect(try await v.send("amq.fanout", [message("3")]) == [.routed])
        #expect(try await v.send("amq.topic", [message("4", key: "a.b.c"), message("5", key: "a.b")]) == [.routed, .unroutable])
        #expect(try await v.send("amq.headers", [message("6", headers: ["color": "red"]),
                                                 message("7", headers: ["color": "blue"])]) == [.routed, .unroutable])
        #expect(try await v.drain("d") == ["1"])
        #expect(try await v.drain("f1") == ["3"])
        #expect(try await v.drain("f2") == ["3"])
        #expect(try await v.drain("t") == ["4"])
        #expect(try await v.drain("h") == ["6"])
    }

    @Test func exchangeToExchangeBindingsRouteTransitivelyWithoutLoops() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("a", "fanout")
        try await v.declareExchange("b", "direct")
        try await v.declare("q")
        try await v.bindExchange(destination: "b", source: "a", routingKey: "", arguments: [:])
        try await v.bindExchange(destination: "a", source: "b", routingKey: "k", arguments: [:])   // a loop
        try await v.bind("q", "b", "k")
        #expect(try await v.send("a", [message("x", key: "k")]) == [.routed])
        #expect(try await v.drain("q") == ["x"])
        try await v.unbindExchange(destination: "b", source: "a", routingKey: "", arguments: [:])
        #expect(try await v.send("a", [message("y", key: "k")]) == [.unroutable])
    }

    @Test func alternateExchangeTakesUnroutable() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("ae", "fanout")
        try await v.declareExchange("main", "direct", arguments: ["alternate-exchange": "ae"])
        try await v.declare("routed")
        try await v.declare("unrouted")
        try await v.bind("routed", "main", "k")
        try await v.bind("unrouted", "ae")
        #expect(try await v.send("main", [message("1", key: "k"), message("2", key: "other")]) == [.routed, .routed])
        #expect(try await v.drain("routed") == ["1"])
        #expect(try await v.drain("unrouted") == ["2"])
    }

    @Test func ccAndBccAddRoutingKeysAndBccIsStripped() async throws {
        let v = try await makeVHost()
        try await v.declare("a")
        try await v.declare("b")
        try await v.declare("c")
        let headers: FieldTable = ["CC": .array([.string("b")]), "BCC": .array([.string("c")])]
        #expect(try await v.send("", [message("m", key: "a", headers: headers)]) == [.routed])
        let q = try await v.queue(named: "c", connectionID: 1)
        let d = try #require(try await q.get(noAck: true))
        #expect(d.message.properties.headers?["BCC"] == nil)
        #expect(d.message.properties.headers?["CC"] != nil)
        #expect(try await v.drain("a") == ["m"])
        #expect(try await v.drain("b") == ["m"])
    }

    @Test func declareErrors() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("x", "direct")
        await expectError(404) {
            try await v.declareExchange(name: "missing", type: "direct", passive: true, durable: false,
                                        autoDelete: false, internal: false, arguments: [:])
        }
        try await v.declareExchange(name: "x", type: "whatever", passive: true, durable: true, autoDelete: false,
                                    internal: false, arguments: [:])
        let e1 = await expectError(406) { try await v.declareExchange("x", "fanout") }
        #expect(e1?.message == "inequivalent arg 'type' for exchange 'x' in vhost '/': received 'fanout' but current is 'direct'")
        await expectError(406) { try await v.declareExchange("x", "direct", durable: true) }
        await expectError(406) { try await v.declareExchange("x", "direct", autoDelete: true) }
        await expectError(406) { try await v.declareExchange("x", "direct", internal: true) }
        let e2 = await expectError(503) { try await v.declareExchange("y", "bogus") }
        #expect(e2?.code.closesConnection == true)
        let e3 = await expectError(403) { try await v.declareExchange("amq.custom", "direct") }
        #expect(e3?.message == "exchange name 'amq.custom' contains reserved prefix 'amq.*'")
        try await v.declareExchange("amq.direct", "direct", durable: true)   // equivalent redeclare is fine
        await expectError(403) { try await v.declareExchange("", "direct") }
    }

    @Test func deleteAndBindErrors() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("x", "direct")
        try await v.declare("q")
        try await v.bind("q", "x", "k")
        await expectError(406) { try await v.deleteExchange(name: "x", ifUnused: true) }
        await expectError(403) { try await v.deleteExchange(name: "", ifUnused: false) }
        await expectError(403) { try await v.deleteExchange(name: "amq.topic", ifUnused: false) }
        await expectError(403) { try await v.bind("q", "") }
        await expectError(404) { try await v.bind("q", "nope") }
        await expectError(404) { try await v.bind("nope", "x") }
        try await v.deleteExchange(name: "x", ifUnused: false)
        await expectError(404) { try await v.send("x", [message("m")]) }
        try await v.deleteExchange(name: "x", ifUnused: false)   // missing: ok, as RabbitMQ
    }

    @Test func internalExchangeRejectsPublish() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("i", "fanout", internal: true)
        await expectError(403) { try await v.send("i", [message("m")]) }
    }

    @Test func autoDeleteExchangeGoesWithLastBinding() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("ad", "fanout", autoDelete: true)
        try await v.declare("q")
        try await v.bind("q", "ad")
        try await v.unbindQueue(queue: "q", exchange: "ad", routingKey: "", arguments: [:], connectionID: 1)
        await expectError(404) { try await v.send("ad", [message("m")]) }
    }
}
