import AOPBroker
import AOPStorage
import AOPWire
import Testing

@Suite struct ConcurrencyTests {
    @Test func concurrentPublishersAndAckingConsumersLoseAndDuplicateNothing() async throws {
        let v = try await makeVHost()
        try await v.declareExchange("fan", "fanout")
        for q in ["a", "b"] {
            try await v.declare(q)
            try await v.bind(q, "fan")
        }
        let sinks = [TestSink(), TestSink()]
        var queues: [MessageQueue] = []
        for (i, name) in ["a", "b"].enumerated() {
            let q = try await v.queue(named: name, connectionID: 1)
            try await q.consume(consumer("c\(i)", sink: sinks[i], noAck: true))
            queues.append(q)
        }
        let publishers = 4, perPublisher = 400
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in 0..<publishers {
                group.addTask {
                    for batch in stride(from: 0, to: perPublisher, by: 50) {
                        let outcomes = try await v.send("fan", (batch..<batch + 50).map { message("\(p)-\($0)") })
                        #expect(outcomes.allSatisfy { $0 == .routed })
                    }
                }
            }
            try await group.waitForAll()
        }
        let total = publishers * perPublisher
        for sink in sinks {
            await sink.wait(for: total)
            #expect(sink.deliveries.count == total)
            #expect(Set(sink.bodies).count == total)
            // Per publisher, order is kept.
            for p in 0..<publishers {
                let mine = sink.bodies.filter { $0.hasPrefix("\(p)-") }
                #expect(mine == (0..<perPublisher).map { "\(p)-\($0)" })
            }
        }
    }

    @Test func queueDeletedWhilePublishing() async throws {
        let v = try await makeVHost()
        try await v.declare("victim")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for i in 0..<20 {
                    let outcomes = try await v.send("", [message("\(i)", key: "victim")])
                    #expect(outcomes.count == 1)
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(1))
                _ = try await v.deleteQueue(name: "victim", ifUnused: false, ifEmpty: false, connectionID: 1)
            }
            try await group.waitForAll()
        }
        await expectError(404) { _ = try await v.queue(named: "victim", connectionID: 1) }
    }
}

@Suite struct DeclareRaceTests {
    @Test func concurrentDeclaresOfOneQueueShareIt() async throws {
        let v = try await makeVHost()
        let results = try await withThrowingTaskGroup(of: QueueDeclareResult.self) { group in
            for _ in 0..<8 { group.addTask { try await v.declare("same") } }
            var out: [QueueDeclareResult] = []
            for try await r in group { out.append(r) }
            return out
        }
        #expect(results.count == 8)
        try await v.send("", [message("m", key: "same")])
        #expect(try await v.drain("same") == ["m"])
    }
}
