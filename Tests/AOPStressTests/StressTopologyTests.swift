import Testing
@testable import AOPStress

@Suite struct StressTopologyTests {
    let t = StressTopology(prefix: "r", stableQueueCount: 4)

    @Test func directKeysReachTwoQueues() {
        #expect(t.stableRoutes(exchange: "r.direct", routingKey: "k0") == ["r.s0", "r.s1"])
        #expect(t.stableRoutes(exchange: "r.direct", routingKey: "k3") == ["r.s3", "r.s0"])
        #expect(t.stableRoutes(exchange: "r.direct", routingKey: "nowhere") == [])
    }

    @Test func topicFanoutAndDefaultExchange() {
        #expect(t.stableRoutes(exchange: "r.topic", routingKey: "t.2.x") == ["r.s2", "r.s0"])
        #expect(t.stableRoutes(exchange: "r.topic", routingKey: "t.none") == ["r.s0"])
        #expect(t.stableRoutes(exchange: "r.topic", routingKey: "u.x") == [])
        #expect(t.stableRoutes(exchange: "r.topic", routingKey: "k1") == [])
        #expect(t.stableRoutes(exchange: "r.fanout", routingKey: "anything") == ["r.s0", "r.s3"])
        #expect(t.stableRoutes(exchange: "", routingKey: "r.s2") == ["r.s2"])
        #expect(t.stableRoutes(exchange: "", routingKey: "r.cq1") == [])
    }

    @Test func churnAndMissingExchangesAreNotTracked() {
        #expect(t.stableRoutes(exchange: "r.ce0", routingKey: "k0") == nil)
        #expect(t.stableRoutes(exchange: t.missingExchange, routingKey: "k0") == nil)
    }

    @Test func topicMatching() {
        #expect(StressTopology.matches(binding: "a.#", key: "a", type: "topic"))
        #expect(StressTopology.matches(binding: "a.#.z", key: "a.b.c.z", type: "topic"))
        #expect(!StressTopology.matches(binding: "a.*", key: "a.b.c", type: "topic"))
        #expect(StressTopology.matches(binding: "#", key: "", type: "topic"))
    }
}
