import AOPIO
@testable import AOPStorage
import Synchronization
import Testing

/// What the workload asked for and what storage confirmed, recorded from many tasks.
final class CrashLedger: Sendable {
    struct State {
        var attempted: [String: Set<[UInt8]>] = [:]
        var confirmed: [String: [UInt64: [UInt8]]] = [:]
        var ackAttempted: [String: Set<UInt64>] = [:]
        var ackConfirmed: [String: Set<UInt64>] = [:]
    }

    let state = Mutex(State())
    func record(_ body: (inout State) -> Void) { self.state.withLock(orderedFor: self) { body(&$0) } }
    var snapshot: State { self.state.withLock(orderedFor: self) { $0 } }
}

@Suite struct CrashRecoveryTests {
    static let topics = ["a", "b"]

    static func configure(_ options: inout DiskStorageOptions) {
        options.segmentSize = 600
        options.indexInterval = 4
        options.compactionThreshold = 300
    }

    /// Appends and acknowledges until storage fails (after the crash) or the quota is done.
    static func worker(_ id: Int, cycle: Int, engine: DiskStorageEngine, ledger: CrashLedger) async {
        let name = Self.topics[id % Self.topics.count]
        do {
            let topic = try await engine.persistentTopic(named: name)
            let cursor = try await topic.durableCursor(named: "c")
            for i in 0..<25 {
                let payloads = (0..<(1 + i % 3)).map { payload("c\(cycle)-w\(id)-\(i)-\($0)") }
                ledger.record { $0.attempted[name, default: []].formUnion(payloads) }
                let positions = try await topic.append(payloads)
                ledger.record { state in
                    for (position, bytes) in zip(positions, payloads) { state.confirmed[name, default: [:]][position.raw] = bytes }
                }
                let acked = positions[0]
                ledger.record { $0.ackAttempted[name, default: []].insert(acked.raw) }
                try await cursor.acknowledge([acked])
                ledger.record { $0.ackConfirmed[name, default: []].insert(acked.raw) }
            }
        } catch {
            return
        }
    }

    /// Every confirmed append is readable with its payload; nothing appears that was never appended;
    /// positions are contiguous; every confirmed acknowledgement holds and no acknowledgement appears
    /// that was never asked for.
    static func verify(_ engine: DiskStorageEngine, _ ledger: CrashLedger.State, seed: UInt64) async throws {
        for name in Self.topics {
            let topic = try await engine.persistentTopic(named: name)
            let end = await topic.endPosition()
            let entries = try await topic.read(from: .zero, limit: Int(end.raw) + 10)
            #expect(entries.map(\.position.raw) == Array(0..<end.raw), "seed \(seed) topic \(name)")
            #expect(Set(entries.map(\.payload)).count == entries.count, "seed \(seed): duplicated payload")
            let attempted = ledger.attempted[name, default: []]
            for entry in entries {
                #expect(attempted.contains(entry.payload), "seed \(seed): \(name) \(entry.position) never appended")
            }
            for (position, bytes) in ledger.confirmed[name, default: [:]] {
                #expect(position < end.raw && entries[Int(position)].payload == bytes,
                        "seed \(seed): confirmed \(name) #\(position) lost")
            }
            let cursor = try await topic.durableCursor(named: "c")
            let acks = await cursor.acknowledgements
            for position in ledger.ackConfirmed[name, default: []] {
                #expect(acks.contains(Position(position)), "seed \(seed): confirmed ack \(name) #\(position) lost")
            }
            let ackAttempted = ledger.ackAttempted[name, default: []]
            for position in 0..<end.raw where acks.contains(Position(position)) {
                #expect(ackAttempted.contains(position), "seed \(seed): ack \(name) #\(position) never asked for")
            }
        }
        #expect(engine.statistics().corruptEntries == 0, "seed \(seed)")
    }

    @Test(arguments: Array(UInt64(1)...30))
    func crashAtRandomPointsLosesNothingConfirmed(seed: UInt64) async throws {
        var rng = SeededGenerator(seed: seed)
        let fs = SimulatedFileSystem()
        let ledger = CrashLedger()
        for cycle in 0..<3 {
            let engine = try await openEngine(fs, Self.configure)
            try await Self.verify(engine, ledger.snapshot, seed: seed)
            let crashAfter = Int(rng.next() % 250)
            let crashSeed = rng.next()
            await withTaskGroup(of: Void.self) { group in
                for id in 0..<4 {
                    group.addTask { await Self.worker(id, cycle: cycle, engine: engine, ledger: ledger) }
                }
                group.addTask {
                    for _ in 0..<crashAfter { await Task.yield() }
                    fs.crash(seed: crashSeed)
                }
            }
        }
        let engine = try await openEngine(fs, Self.configure)
        try await Self.verify(engine, ledger.snapshot, seed: seed)
        await engine.shutdown()
    }
}
