import AOPIO
@testable import AOPStorage
import Testing

@Suite struct DiskCursorAndTrimTests {
    @Test func cursorRestartRedeliversExactlyTheUnacknowledged() async throws {
        let fs = SimulatedFileSystem()
        var engine = try await openEngine(fs)
        var topic = try await engine.persistentTopic(named: "q")
        _ = try await topic.append((0..<20).map { payload("m\($0)") })
        var cursor = try await topic.durableCursor(named: "consumer")
        try await cursor.acknowledge(upTo: Position(5))
        try await cursor.acknowledge([Position(7), Position(9), Position(15), Position(8)])
        let other = try await topic.durableCursor(named: "other")
        try await other.acknowledge([Position(0)])
        await engine.shutdown()

        engine = try await openEngine(fs)
        topic = try await engine.persistentTopic(named: "q")
        #expect(await topic.cursorNames() == ["consumer", "other"])
        cursor = try await topic.durableCursor(named: "consumer")
        let acks = await cursor.acknowledgements
        #expect(acks.markDelete == Position(5))
        #expect(acks.ranges == [7..<10, 15..<16])
        let unacked = acks.unacknowledged(from: .zero, to: await topic.endPosition())
        #expect(unacked.map(\.raw) == [5, 6, 10, 11, 12, 13, 14, 16, 17, 18, 19])
        #expect(try await topic.durableCursor(named: "other").markDeletePosition == Position(1))
        try await topic.deleteCursor(named: "other")
        await #expect(throws: StorageError.self) { try await topic.deleteCursor(named: "other") }
        await engine.shutdown()

        engine = try await openEngine(fs)
        topic = try await engine.persistentTopic(named: "q")
        #expect(await topic.cursorNames() == ["consumer"])
        // A new cursor starts at the beginning.
        #expect(try await topic.durableCursor(named: "fresh").markDeletePosition == .zero)
        await engine.shutdown()
    }

    @Test func cursorCheckpointsAreGroupCommittedAndLogIsCompacted() async throws {
        let fs = SimulatedFileSystem()
        var engine = try await openEngine(fs) { $0.compactionThreshold = 512 }
        var topic = try await engine.persistentTopic(named: "q")
        _ = try await topic.append((0..<300).map { _ in [1] })
        let cursor = try await topic.durableCursor(named: "c")
        // Acknowledge every other position one call at a time, concurrently: checkpoints coalesce.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in stride(from: 1, to: 300, by: 2) {
                group.addTask { try await cursor.acknowledge([Position(UInt64(p))]) }
            }
            try await group.waitForAll()
        }
        try await cursor.acknowledge(upTo: Position(200))
        let logSize = fs.contents(of: "/data/topics/q/cursors.log")!.count
        #expect(logSize < 4 * 512)  // compacted: without it, ~150 records of up to ~2 KiB each
        await engine.shutdown()
        engine = try await openEngine(fs) { $0.compactionThreshold = 512 }
        topic = try await engine.persistentTopic(named: "q")
        let acks = try await topic.durableCursor(named: "c").acknowledgements
        #expect(acks.markDelete == Position(200))
        #expect(acks.ranges.count == 50)
        #expect(acks.unacknowledged(from: Position(200), to: Position(300)).count == 50)
        await engine.shutdown()
    }

    @Test func trimDeletesWholeSegmentsBelowEveryCursor() async throws {
        let fs = SimulatedFileSystem()
        let engine = try await openEngine(fs) { $0.segmentSize = 200 }
        let topic = try await engine.persistentTopic(named: "q")
        for i in 0..<60 { _ = try await topic.append([payload("m\(i)")]) }
        let segmentsBefore = await topic.segmentCount
        #expect(segmentsBefore >= 6)
        let cursor = try await topic.durableCursor(named: "c")
        try await cursor.acknowledge(upTo: Position(20))
        try await topic.trim(before: Position(50))  // held back by the cursor at 20
        let start = await topic.startPosition
        #expect(start.raw <= 20)
        #expect(start.raw > 0)
        #expect(await topic.segmentCount < segmentsBefore)
        #expect(try segmentPaths(fs, topic: "q").count == (await topic.segmentCount))
        #expect(try await topic.read(from: .zero, limit: 1).first?.position == start)
        #expect(try await topic.read(positions: [Position(0), Position(25)]).map(\.position) == [Position(25)])
        try await cursor.acknowledge(upTo: Position(60))
        try await topic.trim(before: Position(60))
        #expect(await topic.segmentCount == 1)  // the active segment stays
        #expect(try await topic.append([[9]]) == [Position(60)])
        await engine.shutdown()
    }

    @Test func retentionKeepsConsumedSegments() async throws {
        let clock = ManualMillisecondClock()
        for retention in [Retention.infinite, Retention(time: .seconds(3600)), Retention(size: 100_000)] {
            let fs = SimulatedFileSystem()
            let engine = try await openEngine(fs) {
                $0.segmentSize = 200
                $0.retention = retention
                $0.clock = clock.function
            }
            let topic = try await engine.persistentTopic(named: "q")
            for i in 0..<60 { _ = try await topic.append([payload("m\(i)")]) }
            let before = await topic.segmentCount
            try await topic.trim(before: Position(60))
            #expect(await topic.segmentCount == before, "\(retention)")
            await engine.shutdown()
        }
        // Time: deleted once older than the limit.
        let fs = SimulatedFileSystem()
        let engine = try await openEngine(fs) {
            $0.segmentSize = 200
            $0.retention = Retention(time: .seconds(3600))
            $0.clock = clock.function
        }
        let topic = try await engine.persistentTopic(named: "q")
        for i in 0..<60 { _ = try await topic.append([payload("m\(i)")]) }
        clock.advance(by: 3_601_000)
        try await topic.trim(before: Position(60))
        #expect(await topic.segmentCount == 1)
        // Size: consumed segments go until the topic is under the limit.
        let sizeFS = SimulatedFileSystem()
        let sizeEngine = try await openEngine(sizeFS) { $0.segmentSize = 200; $0.retention = Retention(size: 600) }
        let sizeTopic = try await sizeEngine.persistentTopic(named: "q")
        for i in 0..<60 { _ = try await sizeTopic.append([payload("m\(i)")]) }
        try await sizeTopic.trim(before: Position(60))
        let remaining = try segmentPaths(sizeFS, topic: "q").map { sizeFS.contents(of: $0)!.count }
        #expect(remaining.count > 1)
        #expect(remaining.reduce(0, +) <= 600)
        #expect(remaining.reduce(0, +) + 200 > 600)  // the next-oldest would have fit: it was kept
        await engine.shutdown()
        await sizeEngine.shutdown()
    }

    @Test func deleteTopicRemovesItsFiles() async throws {
        let fs = SimulatedFileSystem()
        var engine = try await openEngine(fs)
        let topic = try await engine.topic(named: "gone", kind: .persistent)
        _ = try await topic.append([[1]])
        _ = try await topic.cursor(named: "c")
        try await engine.deleteTopic(named: "gone")
        #expect(!fs.fileExists(path: "/data/topics/gone"))
        await #expect(throws: StorageError.self) { _ = try await topic.append([[2]]) }
        await #expect(throws: StorageError.self) { try await engine.deleteTopic(named: "gone") }
        // Not open in this run: still deletable from disk.
        _ = try await engine.topic(named: "later", kind: .persistent).append([[1]])
        await engine.shutdown()
        engine = try await openEngine(fs)
        try await engine.deleteTopic(named: "later")
        #expect(try fs.listDirectory(path: "/data/topics").isEmpty)
        // Non-persistent topics live in memory.
        let transient = try await engine.topic(named: "tmp", kind: .nonPersistent)
        #expect(transient.kind == .nonPersistent)
        _ = try await transient.append([[1]])
        #expect(!fs.fileExists(path: "/data/topics/tmp"))
        await engine.shutdown()
        await #expect(throws: StorageError.self) { _ = try await engine.topic(named: "x", kind: .persistent) }
    }

    @Test func metadataSurvivesRestartAndCompaction() async throws {
        let fs = SimulatedFileSystem()
        var engine = try await openEngine(fs) { $0.compactionThreshold = 1024 }
        for round in 0..<100 {
            try await engine.metadata.put("queue/a", payload("definition \(round)"))
        }
        try await engine.metadata.put("queue/b", [2])
        try await engine.metadata.put("exchange/x", [3])
        try await engine.metadata.put("queue/c", [4])
        try await engine.metadata.delete("queue/c")
        let size = try #require(fs.contents(of: "/data/metadata/definitions.log")).count
        #expect(size < 2 * 1024)  // ~100 records of ~30 bytes were compacted
        await engine.shutdown()
        engine = try await openEngine(fs) { $0.compactionThreshold = 1024 }
        #expect(try await engine.metadata.get("queue/a") == payload("definition 99"))
        #expect(try await engine.metadata.get("queue/c") == nil)
        let queues = try await engine.metadata.list(prefix: "queue/")
        #expect(queues.map(\.key) == ["queue/a", "queue/b"])
        await engine.shutdown()
        // A torn final record is cut at open; earlier records stay.
        var bytes = fs.contents(of: "/data/metadata/definitions.log")!
        bytes += KeyValueLog.record(key: "queue/z", value: [9]).dropLast(1)
        fs.overwrite(path: "/data/metadata/definitions.log", with: bytes)
        engine = try await openEngine(fs)
        #expect(try await engine.metadata.get("queue/z") == nil)
        #expect(try await engine.metadata.get("queue/b") == [2])
        try await engine.metadata.put("queue/z", [10])
        await engine.shutdown()
        engine = try await openEngine(fs)
        #expect(try await engine.metadata.get("queue/z") == [10])
        await engine.shutdown()
    }
}
