import AOPBroker
import AOPStorage
import AOPWire
import Testing

@Suite struct QueueConsumeTests {
    @Test func consumerGetsBacklogAndNewMessagesInOrder() async throws {
        let v = try await makeVHost()
        try await v.declare("q")
        try await v.send("", (0..<5).map { message("\($0)", key: "q") })
        let sink = TestSink()
        let q = try await v.queue(named: "q", connectionID: 1)
        try await q.consume(consumer("c", sink: sink))
        try await v.send("", (5..<8).map { message("\($0)", key: "q") })
        await sink.wait(for: 8)
        #expect(sink.bodies == (0..<8).map { "\($0)" })
        #expect(sink.deliveries.allSatisfy { $0.consumerTag == "c" && !$0.redelivered })
    }

    @Test func creditLimitsDeliveriesUntilReleased() async throws {
        let v = try await makeVHost()
        try await v.declare("q")
        try await v.send("", (0..<5).map { message("\($0)", key: "q") })
        let sink = TestSink()
        let reg = consumer("c", sink: sink, prefetch: 2)
        let q = try await v.queue(named: "q", connectionID: 1)
        try await q.consume(reg)
        await sink.wait(for: 2)
        try await Task.sleep(for: .milliseconds(50))
        #expect(sink.deliveries.count == 2)
        await q.settle(sink.deliveries.map(\.deliveryID), .ack)
        reg.credit.release(2)
        await q.creditAvailable()
        await sink.wait(for: 4)
        #expect(sink.bodies == ["0", "1", "2", "3"])
        #expect(try await v.messageCount("q") == 1)
    }

    @Test func roundRobinAcrossConsumers() async throws {
        let v = try await makeVHost()
        try await v.declare("q")
        let a = TestSink(), b = TestSink()
        let q = try await v.queue(named: "q", connectionID: 1)
        try await q.consume(consumer("a", sink: a))
        try await q.consume(consumer("b", sink: b))
        try await v.send("", (0..<10).map { message("\($0)", key: "q") })
        await waitUntil { a.deliveries.count + b.deliveries.count == 10 }
        #expect(a.deliveries.count == 5)
        #expect(b.deliveries.count == 5)
    }

    @Test func higherPriorityConsumerFirstWhileItHasCredit() async throws {
        let v = try await makeVHost()
        try await v.declare("q")
        let low = TestSink(), high = TestSink()
        let q = try await v.queue(named: "q", connectionID: 1)
        try await q.consume(consumer("low", sink: low, priority: 0))
        try await q.consume(consumer("high", sink: high, prefetch: 3, priority: 5))
        try await v.send("", (0..<5).map { message("\($0)", key: "q") })
        await waitUntil { low.deliveries.count + high.deliveries.count == 5 }
        #expect(high.bodies == ["0", "1", "2"])
        #expect(low.bodies == ["3", "4"])
    }

    @Test func singleActiveConsumer() async throws {
        let v = try await makeVHost()
        try await v.declare("q", arguments: ["x-single-active-consumer": true])
        let a = TestSink(), b = TestSink()
        let q = try await v.queue(named: "q", connectionID: 1)
        try await q.consume(consumer("a", sink: a, noAck: true))
        try await q.consume(consumer("b", sink: b, noAck: true))
        try await v.send("", (0..<4).map { message("\($0)", key: "q") })
        await a.wait(for: 4)
        #expect(b.deliveries.isEmpty)
        await q.cancel(consumerTag: "a")
        try await v.send("", [message("4", key: "q")])
        await b.wait(for: 1)
        #expect(b.bodies == ["4"])
    }

    @Test func exclusiveConsumerConflicts() async throws {
        let v = try await makeVHost()
        try await v.declare("q")
        let q = try await v.queue(named: "q", connectionID: 1)
        try await q.consume(consumer("a", sink: TestSink()))
        let e = await expectError(403) { try await q.consume(consumer("x", sink: TestSink(), exclusive: true)) }
        #expect(e?.message == "queue 'q' in vhost '/' in exclusive use")
        await q.cancel(consumerTag: "a")
        try await q.consume(consumer("x", sink: TestSink(), exclusive: true))
        await expectError(403) { try await q.consume(consumer("b", sink: TestSink())) }
    }

    @Test func requeueRestoresOriginalOrderWithRedeliveredFlag() async throws {
        let v = try await makeVHost()
        try await v.declare("q")
        try await v.send("", (0..<4).map { message("\($0)", key: "q") })
        let q = try await v.queue(named: "q", connectionID: 1)
        let d0 = try #require(try await q.get(noAck: false))
        let d1 = try #require(try await q.get(noAck: false))
        #expect(d1.messageCount == 2)
        await q.settle([d1.deliveryID], .requeue)
        await q.settle([d0.deliveryID], .requeue)
        var got: [(String, Bool)] = []
        while let d = try await q.get(noAck: true) {
            got.append((String(decoding: d.message.body, as: UTF8.self), d.redelivered))
        }
        #expect(got.map(\.0) == ["0", "1", "2", "3"])
        #expect(got.map(\.1) == [true, true, false, false])
    }

    @Test func rejectWithoutDLXDropsAndAckRemoves() async throws {
        let v = try await makeVHost()
        try await v.declare("q")
        try await v.send("", [message("a", key: "q"), message("b", key: "q")])
        let q = try await v.queue(named: "q", connectionID: 1)
        let a = try #require(try await q.get(noAck: false))
        let b = try #require(try await q.get(noAck: false))
        await q.settle([a.deliveryID], .reject)
        await q.settle([b.deliveryID], .ack)
        #expect(try await q.get(noAck: true) == nil)
    }

    @Test func purgeAndDeleteCounts() async throws {
        let v = try await makeVHost()
        try await v.declare("q")
        try await v.send("", (0..<5).map { message("\($0)", key: "q") })
        let q = try await v.queue(named: "q", connectionID: 1)
        let held = try #require(try await q.get(noAck: false))
        #expect(try await v.purgeQueue(name: "q", connectionID: 1) == 4)
        #expect(try await v.messageCount("q") == 0)
        await q.settle([held.deliveryID], .requeue)   // unacked survives a purge
        try await v.send("", [message("5", key: "q")])
        #expect(try await v.messageCount("q") == 2)
        let e = await expectError(406) { _ = try await v.deleteQueue(name: "q", ifUnused: false, ifEmpty: true, connectionID: 1) }
        #expect(e?.message == "queue 'q' in vhost '/' not empty")
        let sink = TestSink()
        try await q.consume(consumer("c", sink: sink, prefetch: 1))
        await expectError(406) { _ = try await v.deleteQueue(name: "q", ifUnused: true, ifEmpty: false, connectionID: 1) }
        await sink.wait(for: 1)
        #expect(try await v.deleteQueue(name: "q", ifUnused: false, ifEmpty: false, connectionID: 1) == 1)
        #expect(sink.cancelled == ["c"])
        await expectError(404) { _ = try await v.queue(named: "q", connectionID: 1) }
        #expect(try await v.deleteQueue(name: "q", ifUnused: false, ifEmpty: false, connectionID: 1) == 0)
    }

    @Test func exclusiveQueueIsLockedAndGoesWithItsConnection() async throws {
        let v = try await makeVHost()
        try await v.declare("ex", exclusive: true, connection: 7)
        await expectError(405) { _ = try await v.queue(named: "ex", connectionID: 8) }
        await expectError(405) { try await v.declare("ex", exclusive: true, connection: 8) }
        await expectError(405) { _ = try await v.purgeQueue(name: "ex", connectionID: 8) }
        _ = try await v.queue(named: "ex", connectionID: 7)
        try await v.declare("shared")
        await expectError(405) { try await v.declare("shared", exclusive: true, connection: 7) }
        await v.connectionClosed(connectionID: 7)
        await expectError(404) { _ = try await v.queue(named: "ex", connectionID: 7) }
    }

    @Test func autoDeleteQueueGoesWhenLastConsumerCancels() async throws {
        let v = try await makeVHost()
        try await v.declare("ad", autoDelete: true)
        let q = try await v.queue(named: "ad", connectionID: 1)
        try await q.consume(consumer("a", sink: TestSink()))
        try await q.consume(consumer("b", sink: TestSink()))
        await q.cancel(consumerTag: "a")
        _ = try await v.queue(named: "ad", connectionID: 1)
        await q.cancel(consumerTag: "b")
        await expectError(404) { _ = try await v.queue(named: "ad", connectionID: 1) }
    }

    @Test func serverNamedQueueAndDeclareErrors() async throws {
        let v = try await makeVHost()
        let r = try await v.declare("")
        #expect(r.name.hasPrefix("amq.gen-"))
        #expect(r.name.count == "amq.gen-".count + 22)
        await expectError(403) { try await v.declare("amq.mine") }
        await expectError(404) {
            _ = try await v.declareQueue(name: "missing", passive: true, durable: false, exclusive: false,
                                         autoDelete: false, arguments: [:], connectionID: 1)
        }
        try await v.declare("q")
        let e = await expectError(406) { try await v.declare("q", durable: true) }
        #expect(e?.message == "inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'")
        await expectError(406) { try await v.declare("q", arguments: ["x-max-length": 5]) }
        try await v.send("", [message("m", key: "q")])
        let redeclared = try await v.declare("q")
        #expect(redeclared.messageCount == 1)
    }
}
