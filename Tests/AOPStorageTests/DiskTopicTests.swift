import AOPIO
@testable import AOPStorage
import Testing

@Suite struct DiskTopicTests {
    @Test func appendAndReadAcrossSegments() async throws {
        let fs = SimulatedFileSystem()
        let engine = try await openEngine(fs) { $0.segmentSize = 256; $0.indexInterval = 4 }
        let topic = try await engine.persistentTopic(named: "orders")
        var positions: [Position] = []
        for batch in 0..<10 {
            positions += try await topic.append((0..<5).map { payload("m-\(batch * 5 + $0)") })
        }
        #expect(positions == (0..<50).map { Position(UInt64($0)) })
        #expect(await topic.segmentCount > 3)
        #expect(await topic.endPosition() == Position(50))
        let all = try await topic.read(from: .zero, limit: 1000)
        #expect(all.map(\.payload) == (0..<50).map { payload("m-\($0)") })
        let middle = try await topic.read(from: Position(17), limit: 9)
        #expect(middle.map(\.position) == (17..<26).map { Position(UInt64($0)) })
        #expect(try await topic.read(from: Position(50), limit: 10).isEmpty)
        let picked = try await topic.read(positions: [Position(42), Position(3), Position(77), Position(3), Position(18)])
        #expect(picked.map(\.position) == [Position(42), Position(3), Position(3), Position(18)])
        #expect(picked.map(\.payload) == [payload("m-42"), payload("m-3"), payload("m-3"), payload("m-18")])
        _ = try await topic.append([[]])  // empty payloads are entries too
        #expect(try await topic.read(positions: [Position(50)]).first?.payload == [])
        await engine.shutdown()
    }

    @Test func concurrentAppendsAcrossTopicsShareSyncs() async throws {
        let fs = SimulatedFileSystem(syncDelay: .milliseconds(2))
        let engine = try await openEngine(fs)
        let topicCount = 10
        let appendsPerTopic = 20
        var topics: [DiskTopic] = []
        for t in 0..<topicCount { topics.append(try await engine.persistentTopic(named: "t\(t)")) }
        let before = engine.statistics()
        let results = try await withThrowingTaskGroup(of: (Int, Position).self) { group in
            for (t, topic) in topics.enumerated() {
                for i in 0..<appendsPerTopic {
                    group.addTask { (t, try await topic.append([payload("t\(t)-\(i)")]).first!) }
                }
            }
            var results: [(Int, Position)] = []
            for try await result in group { results.append(result) }
            return results
        }
        let stats = engine.statistics()
        let appends = topicCount * appendsPerTopic
        let rounds = stats.commitRounds - before.commitRounds
        let syncs = stats.fileSyncs - before.fileSyncs
        #expect(results.count == appends)
        // Never one fdatasync per append; at most one per dirty file per round.
        #expect(syncs < appends / 2, "syncs: \(syncs), rounds: \(rounds)")
        #expect(syncs <= rounds * topicCount)
        #expect(rounds < appends / 4)
        for t in 0..<topicCount {
            let positions = results.filter { $0.0 == t }.map(\.1.raw).sorted()
            #expect(positions == (0..<UInt64(appendsPerTopic)).map { $0 })
            #expect(try await topics[t].read(from: .zero, limit: 100).count == appendsPerTopic)
        }
        await engine.shutdown()
    }

    @Test func restartRecoversEntriesAndContinuesPositions() async throws {
        let fs = SimulatedFileSystem()
        var engine = try await openEngine(fs) { $0.segmentSize = 300 }
        var topic = try await engine.persistentTopic(named: "log")
        for i in 0..<40 { _ = try await topic.append([payload("e\(i)")]) }
        await engine.shutdown()
        engine = try await openEngine(fs) { $0.segmentSize = 300 }
        topic = try await engine.persistentTopic(named: "log")
        #expect(await topic.endPosition() == Position(40))
        #expect(try await topic.read(from: .zero, limit: 100).map(\.payload) == (0..<40).map { payload("e\($0)") })
        #expect(try await topic.append([payload("e40")]) == [Position(40)])
        #expect(engine.statistics().truncatedBytes == 0)
        #expect(engine.statistics().corruptEntries == 0)
        await engine.shutdown()
    }

    @Test func tornTailIsTruncatedAtRecovery() async throws {
        let fs = SimulatedFileSystem()
        var engine = try await openEngine(fs)
        var topic = try await engine.persistentTopic(named: "log")
        for i in 0..<10 { _ = try await topic.append([payload("e\(i)")]) }
        await engine.shutdown()
        let path = try segmentPaths(fs, topic: "log").last!
        let good = fs.contents(of: path)!
        // A half-written entry at position 10: complete header, part of the payload.
        var torn = good
        EntryFormat.append(position: 10, batchIndex: 0, payload: payload("a payload never synced"), to: &torn)
        torn.removeLast(7)
        fs.overwrite(path: path, with: torn)
        engine = try await openEngine(fs)
        topic = try await engine.persistentTopic(named: "log")
        #expect(engine.statistics().truncatedBytes == UInt64(torn.count - good.count))
        #expect(fs.contents(of: path) == good)
        #expect(try await topic.read(from: .zero, limit: 100).count == 10)
        #expect(try await topic.append([payload("e10")]) == [Position(10)])
        await engine.shutdown()
    }

    @Test func corruptMiddleEntryIsReportedAndNeverReturned() async throws {
        let fs = SimulatedFileSystem()
        var engine = try await openEngine(fs) { $0.segmentSize = 400 }
        var topic = try await engine.persistentTopic(named: "log")
        for i in 0..<47 { _ = try await topic.append([payload("entry-\(i)")]) }
        let lastPath = try segmentPaths(fs, topic: "log").last!
        await engine.shutdown()
        let paths = try segmentPaths(fs, topic: "log")
        #expect(paths.count >= 3)
        // Damage the payload of the second entry of the first (sealed) segment, and of the second entry of
        // the last segment (at least two later batches follow it, so this is not a torn tail).
        let offset = SegmentFormat.headerSize + (EntryFormat.headerSize + 7) + EntryFormat.headerSize + 2
        fs.corrupt(path: paths[0], at: offset)
        let lastFirst = SegmentFormat.firstPosition(fileName: String(lastPath.split(separator: "/").last!))!
        let lastBytes = fs.contents(of: lastPath)!
        let firstLength = Int(lastBytes.loadLittleEndian(UInt32.self, at: SegmentFormat.headerSize))
        fs.corrupt(path: lastPath, at: SegmentFormat.headerSize + EntryFormat.headerSize + firstLength + EntryFormat.headerSize)
        engine = try await openEngine(fs) { $0.segmentSize = 400 }
        topic = try await engine.persistentTopic(named: "log")
        #expect(await topic.endPosition() == Position(47))
        let all = try await topic.read(from: .zero, limit: 100)
        let missing = Set(0..<47).subtracting(all.map { Int($0.position.raw) })
        #expect(missing == [1, Int(lastFirst) + 1])
        for entry in all { #expect(entry.payload == payload("entry-\(entry.position.raw)")) }
        #expect(engine.statistics().corruptEntries == 2)
        #expect(engine.statistics().truncatedBytes == 0)
        #expect(try await topic.read(positions: [Position(1), Position(2)]).map(\.position) == [Position(2)])
        await engine.shutdown()
    }

    @Test func corruptionAfterTheScanIsSkippedOnRead() async throws {
        let fs = SimulatedFileSystem()
        let engine = try await openEngine(fs) { $0.tailCacheBytes = 0 }  // read the damaged file, not memory
        let topic = try await engine.persistentTopic(named: "log")
        for i in 0..<5 { _ = try await topic.append([payload("entry-\(i)")]) }
        let path = try segmentPaths(fs, topic: "log").last!
        fs.corrupt(path: path, at: SegmentFormat.headerSize + EntryFormat.headerSize + 1)
        let entries = try await topic.read(from: .zero, limit: 10)
        #expect(entries.map(\.position) == (1..<5).map { Position(UInt64($0)) })
        #expect(engine.statistics().corruptEntries == 1)
        #expect(try await topic.read(positions: [Position(0), Position(4)]).map(\.position) == [Position(4)])
        #expect(engine.statistics().corruptEntries == 1)
        await engine.shutdown()
    }

    @Test func indexStaysSparseWithAMillionEntries() async throws {
        let fs = SimulatedFileSystem()
        let engine = try await openEngine(fs) { $0.indexInterval = 64 }
        let topic = try await engine.persistentTopic(named: "big")
        let batch = (0..<10_000).map { i in [UInt8(truncatingIfNeeded: i), 1, 2, 3] }
        for _ in 0..<100 { _ = try await topic.append(batch) }
        #expect(await topic.endPosition() == Position(1_000_000))
        let indexEntries = await topic.indexEntryCount
        let segments = await topic.segmentCount
        #expect(indexEntries <= 1_000_000 / 64 + segments)
        #expect(indexEntries >= 1_000_000 / 64)
        let probe = try await topic.read(positions: [Position(777_777)])
        #expect(probe.first?.payload == [UInt8(truncatingIfNeeded: 7_777), 1, 2, 3])
        await engine.shutdown()
    }

    @Test func noSpaceFailsTheAppendCleanlyAndRecovers() async throws {
        let fs = SimulatedFileSystem()
        // Without preallocation: the capacity below is counted in bytes of data.
        let configure: (inout DiskStorageOptions) -> Void = { $0.preallocationBytes = 0 }
        var engine = try await openEngine(fs, configure)
        var topic = try await engine.persistentTopic(named: "log")
        _ = try await topic.append([payload("before")])
        let path = try segmentPaths(fs, topic: "log").last!
        let sizeBefore = fs.contents(of: path)!.count
        fs.setCapacity(fs.usedBytes + 30)
        let big = [UInt8](repeating: 7, count: 100)
        do {
            _ = try await topic.append([big])
            Issue.record("append should have failed")
        } catch {
            #expect(error.code == .noSpace)
        }
        #expect(fs.contents(of: path)!.count == sizeBefore)
        #expect(await topic.endPosition() == Position(1))
        _ = try await topic.append([payload("tiny")])  // fits
        fs.setCapacity(nil)
        #expect(try await topic.append([big]) == [Position(2)])
        await engine.shutdown()
        engine = try await openEngine(fs, configure)
        topic = try await engine.persistentTopic(named: "log")
        #expect(try await topic.read(from: .zero, limit: 10).map(\.payload) == [payload("before"), payload("tiny"), big])
        #expect(engine.statistics().truncatedBytes == 0)
        await engine.shutdown()
    }

    @Test func recentEntriesAreReadFromTheTailCache() async throws {
        let fs = SimulatedFileSystem()
        let engine = try await openEngine(fs) { $0.tailCacheBytes = 200; $0.indexInterval = 2 }
        let topic = try await engine.persistentTopic(named: "log")
        for i in 0..<40 { _ = try await topic.append([payload("entry-\(i)")]) }
        let before = engine.statistics().tailCacheHits
        #expect(try await topic.read(from: Position(38), limit: 2).map(\.payload) == [payload("entry-38"), payload("entry-39")])
        let afterRecent = engine.statistics().tailCacheHits
        #expect(afterRecent > before)
        #expect(try await topic.read(from: .zero, limit: 2).map(\.payload) == [payload("entry-0"), payload("entry-1")])
        #expect(engine.statistics().tailCacheHits == afterRecent)  // old entries come from the file
        await engine.shutdown()
    }

    @Test func segmentWhoseCreationWasCutShortIsRemoved() async throws {
        let fs = SimulatedFileSystem()
        var engine = try await openEngine(fs)
        var topic = try await engine.persistentTopic(named: "log")
        for i in 0..<10 { _ = try await topic.append([payload("e\(i)")]) }
        await engine.shutdown()
        let stray = "/data/topics/log/" + SegmentFormat.fileName(firstPosition: 10)
        _ = try await fs.open(path: stray, create: true)
        fs.overwrite(path: stray, with: Array(SegmentFormat.magic.prefix(5)))  // torn header
        engine = try await openEngine(fs)
        topic = try await engine.persistentTopic(named: "log")
        #expect(!fs.fileExists(path: stray))
        #expect(await topic.segmentCount == 1)
        #expect(try await topic.read(from: .zero, limit: 100).count == 10)
        #expect(try await topic.append([payload("e10")]) == [Position(10)])
        await engine.shutdown()
    }
}
