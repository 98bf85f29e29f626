import AOPWire
import Testing
@testable import AOPBroker

@Suite struct DeathHeadersTests {
    @Test func firstDeath() throws {
        let props = BasicProperties(headers: ["zeta": 1, "CC": .array(["cc1"])], expiration: "0500")
        let keys = DeathHeaders.routingKeys(routingKey: "rk", headers: props.headers)
        #expect(keys == ["rk", "cc1"])
        let out = DeathHeaders.recordDeath(props, reason: .expired, queue: "q1", exchange: "ex", routingKeys: keys,
                                           nowMilliseconds: 1_700_000_000_999)
        #expect(out.expiration == nil)
        let headers = try #require(out.headers)
        #expect(headers.keys == ["CC", "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
                                 "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason", "zeta"])
        #expect(headers["x-first-death-reason"] == "expired")
        #expect(headers["x-last-death-queue"] == "q1")
        let entry: FieldTable = [
            "original-expiration": "500", "count": .int64(1), "reason": "expired", "queue": "q1",
            "time": .timestamp(1_700_000_000), "exchange": "ex", "routing-keys": .array(["rk", "cc1"]),
        ]
        #expect(headers["x-death"] == .array([.table(entry)]))
    }

    @Test func repeatedDeathsCountAndReorder() throws {
        var props = BasicProperties()
        props = DeathHeaders.recordDeath(props, reason: .rejected, queue: "a", exchange: "e1", routingKeys: ["k1"], nowMilliseconds: 1000)
        props = DeathHeaders.recordDeath(props, reason: .expired, queue: "b", exchange: "dlx", routingKeys: ["k2"], nowMilliseconds: 2000)
        props = DeathHeaders.recordDeath(props, reason: .rejected, queue: "a", exchange: "dlx2", routingKeys: ["k3"], nowMilliseconds: 3000)
        let deaths = DeathHeaders.deaths(in: props.headers)
        #expect(deaths == [
            DeathRecord(queue: "a", reason: .rejected, count: 2, exchange: "e1", routingKeys: ["k1"], time: 1),
            DeathRecord(queue: "b", reason: .expired, count: 1, exchange: "dlx", routingKeys: ["k2"], time: 2),
        ])
        let headers = try #require(props.headers)
        #expect(headers["x-first-death-queue"] == "a")
        #expect(headers["x-first-death-exchange"] == "e1")
        #expect(headers["x-last-death-exchange"] == "dlx2")
        #expect(headers["x-last-death-reason"] == "rejected")
        // Another reason in the same queue is another entry.
        props = DeathHeaders.recordDeath(props, reason: .maxlen, queue: "a", exchange: "x", routingKeys: [], nowMilliseconds: 4000)
        #expect(DeathHeaders.deaths(in: props.headers).map(\.reason) == [.maxlen, .rejected, .expired])
    }

    @Test func malformedEntriesAreDropped() {
        let headers: FieldTable = ["x-death": .array([.table(["queue": "q"]), "junk",
            .table(DeathRecord(queue: "ok", reason: .expired, count: 3, exchange: "", routingKeys: ["r"], time: 9).table)])]
        #expect(DeathHeaders.deaths(in: headers).map(\.queue) == ["ok"])
    }

    @Test func cycles() {
        let expired = DeathRecord(queue: "a", reason: .expired, count: 1, exchange: "", routingKeys: [], time: 0)
        let rejected = DeathRecord(queue: "b", reason: .rejected, count: 1, exchange: "", routingKeys: [], time: 0)
        #expect(DeathHeaders.isCycle(targetQueue: "a", deaths: [expired]))
        #expect(!DeathHeaders.isCycle(targetQueue: "c", deaths: [expired]))
        #expect(!DeathHeaders.isCycle(targetQueue: "a", deaths: [rejected, expired]))
        #expect(!DeathHeaders.isCycle(targetQueue: "b", deaths: [rejected]))
    }
}
