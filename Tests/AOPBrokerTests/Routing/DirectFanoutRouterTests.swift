import AOPWire
import Testing
@testable import AOPBroker

@Suite struct DirectFanoutRouterTests {
    @Test func directRoutesByExactKey() {
        var r = DirectRouter()
        do { let result = r.bind(Binding(destination: .queue("a"), routingKey: "k")); #expect(result) }
        do { let result = r.bind(Binding(destination: .queue("a"), routingKey: "k")); #expect(!result) }
        do { let result = r.bind(Binding(destination: .queue("a"), routingKey: "k", arguments: ["x": 1])); #expect(result) }
        do { let result = r.bind(Binding(destination: .queue("b"), routingKey: "k")); #expect(result) }
        do { let result = r.bind(Binding(destination: .queue("c"), routingKey: "")); #expect(result) }
        #expect(r.route(routingKey: "k", headers: nil) == [.queue("a"), .queue("b")])
        #expect(r.route(routingKey: "", headers: nil) == [.queue("c")])
        #expect(r.route(routingKey: "K", headers: nil).isEmpty)
        #expect(r.route(routingKey: "k.", headers: nil).isEmpty)
        // One of a's two bindings goes: a still receives.
        do { let result = r.unbind(Binding(destination: .queue("a"), routingKey: "k")); #expect(result) }
        #expect(r.route(routingKey: "k", headers: nil) == [.queue("a"), .queue("b")])
        do { let result = r.unbindAll(destination: .queue("a")); #expect(result == 1) }
        #expect(r.route(routingKey: "k", headers: nil) == [.queue("b")])
        #expect(r.bindings.count == 2)
    }

    @Test func directComparesBytesNotCanonicalEquivalence() {
        var r = DirectRouter()
        _ = r.bind(Binding(destination: .queue("a"), routingKey: "caf\u{E9}"))
        #expect(r.route(routingKey: "cafe\u{301}", headers: nil).isEmpty)
        #expect(r.route(routingKey: "caf\u{E9}", headers: nil) == [.queue("a")])
    }

    @Test func fanoutRoutesEverywhereOnce() {
        var r = FanoutRouter()
        _ = r.bind(Binding(destination: .queue("a"), routingKey: "x"))
        _ = r.bind(Binding(destination: .queue("a"), routingKey: "y"))
        _ = r.bind(Binding(destination: .exchange("e"), routingKey: ""))
        #expect(r.route(routingKey: "anything", headers: nil) == [.queue("a"), .exchange("e")])
        do { let result = r.unbind(Binding(destination: .queue("a"), routingKey: "x")); #expect(result) }
        #expect(r.route(routingKey: "", headers: nil) == [.queue("a"), .exchange("e")])
        do { let result = r.unbindAll(destination: .queue("a")); #expect(result == 1) }
        #expect(r.route(routingKey: "", headers: nil) == [.exchange("e")])
        do { let result = r.unbind(Binding(destination: .queue("a"), routingKey: "y")); #expect(!result) }
    }

    @Test func bindingsAreListedWithSortedArguments() {
        var r = DirectRouter()
        _ = r.bind(Binding(destination: .queue("a"), routingKey: "k", arguments: ["b": 1, "a": 2, "b": 3]))
        #expect(r.bindings == [Binding(destination: .queue("a"), routingKey: "k", arguments: ["a": 2, "b": 1, "b": 3])])
    }

    @Test(arguments: ExchangeType.allCases)
    func anyRouterBehavesAsItsType(type: ExchangeType) throws {
        var r = AnyRouter(type)
        #expect(r.type == type)
        #expect(r.isEmpty)
        do { let result = r.bind(Binding(destination: .queue("a"), routingKey: "k.x", arguments: ["h": "v"])); #expect(result) }
        do { let result = r.bind(Binding(destination: .queue("a"), routingKey: "k.x", arguments: ["h": "v"])); #expect(!result) }
        let routed = r.route(routingKey: "k.x", headers: ["h": "v"])
        #expect(routed == [.queue("a")])
        do { let result = r.unbindAll(destination: .queue("a")); #expect(result == 1) }
        #expect(r.isEmpty)
        let existential = makeRouter(type)
        #expect(existential.isEmpty)
        if type == .headers {
            #expect(throws: AMQPError.self) {
                try r.validate(Binding(destination: .queue("a"), routingKey: "", arguments: ["x-match": "some"]))
            }
        } else {
            try r.validate(Binding(destination: .queue("a"), routingKey: "", arguments: ["x-match": "some"]))
        }
    }

    @Test func routeWithSeveralRoutingKeysUnions() {
        var r = DirectRouter()
        _ = r.bind(Binding(destination: .queue("a"), routingKey: "k1"))
        _ = r.bind(Binding(destination: .queue("b"), routingKey: "k2"))
        #expect(r.route(routingKeys: ["k1", "k2", "k3"], headers: nil) == [.queue("a"), .queue("b")])
        #expect(r.route(routingKeys: [String](), headers: nil).isEmpty)
    }
}
