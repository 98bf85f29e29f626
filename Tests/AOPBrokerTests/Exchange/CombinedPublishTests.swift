@testable import AOPBroker
import AOPIO
import AOPStorage
import AOPWire
import Glibc
import Logging
import Testing

/// Many publishers at once on one exchange: their batches are combined into shared write rounds, and
/// each publisher must still get exactly its own outcomes, every message must arrive once, and each
/// publisher's messages must stay in publish order.
@Suite struct CombinedPublishTests {
    static let publishers = 32
    static let batchesPerPublisher = 20
    static let batchSize = 5
    static let limit = 300

    @Test(arguments: [false, true])
    func concurrentPublishersGetTheirOwnOutcomesAndEveryMessageArrivesOnceInOrder(onDisk: Bool) async throws {
        let dir = "/tmp/aop-combined-publish-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { Self.removeTree(dir) }
        let disk = onDisk ? try await DiskStorageEngine(directory: dir, fileSystem: PosixFileSystem()) : nil
        let v = VirtualHost(name: "/", storage: disk ?? InMemoryStorageEngine(), logger: Logger(label: "test"))
        try await v.start()
        try await v.declareExchange("fan", "fanout", durable: true)
        try await v.declare("all", durable: true)
        // Refuses messages past `limit`: which messages those are depends on how rounds interleave, so only
        // correct per-caller outcomes can match the queue's content.
        try await v.declare("limited", durable: true,
                            arguments: ["x-max-length": .int32(Int32(Self.limit)), "x-overflow": "reject-publish"])
        try await v.bind("all", "fan")
        try await v.bind("limited", "fan")

        let routed = try await withThrowingTaskGroup(of: [String].self) { group in
            for p in 0..<Self.publishers {
                group.addTask {
                    var routed: [String] = []
                    for b in 0..<Self.batchesPerPublisher {
                        let bodies = (0..<Self.batchSize).map { "\(p)-\(b * Self.batchSize + $0)" }
                        let outcomes = try await v.send("fan", bodies.map { message($0, persistent: true) })
                        #expect(outcomes.count == bodies.count)
                        for (body, outcome) in zip(bodies, outcomes) {
                            switch outcome {
                            case .routed: routed.append(body)
                            case .rejected: break
                            default: Issue.record("unexpected outcome \(outcome) for \(body)")
                            }
                        }
                    }
                    return routed
                }
            }
            var all: [String] = []
            for try await r in group { all += r }
            return all
        }

        let total = Self.publishers * Self.batchesPerPublisher * Self.batchSize
        let everything = try await v.drain("all")
        #expect(everything.count == total)
        #expect(Set(everything).count == total)
        Self.expectPublishOrder(everything)
        let limited = try await v.drain("limited")
        // Admission counts ready entries, and a round's entries become ready only after its durability
        // wait: rounds in flight may admit a few past the limit (as before combining). Whatever the
        // count, the queue must hold exactly the messages whose publishers were told `.routed`.
        #expect(limited.count >= Self.limit && limited.count < total)
        #expect(routed.count == limited.count)
        #expect(Set(limited) == Set(routed))
        Self.expectPublishOrder(limited)

        let exchange = try #require(await v.exchanges["fan"]?.actor)
        #expect(await exchange.batchesWritten == Self.publishers * Self.batchesPerPublisher)
        if onDisk {
            // Each round waits for the storage thread, so batches begun meanwhile share the next round.
            #expect(await exchange.roundsWritten < exchange.batchesWritten)
        }
        await disk?.shutdown()
    }

    /// Per publisher, the sequence numbers in `bodies` ("publisher-sequence") increase.
    static func expectPublishOrder(_ bodies: [String]) {
        var last: [String: Int] = [:]
        for body in bodies {
            let parts = body.split(separator: "-")
            let (p, n) = (String(parts[0]), Int(parts[1])!)
            #expect(n > last[p, default: -1], "\(body) after \(p)-\(last[p] ?? -1)")
            last[p] = n
        }
    }

    private static func removeTree(_ path: String) {
        let fs = PosixFileSystem()
        for name in (try? fs.listDirectory(path: path)) ?? [] { Self.removeTree(path + "/" + name) }
        try? fs.remove(path: path)
    }
}
