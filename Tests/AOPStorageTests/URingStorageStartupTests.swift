import AOPIO
@testable import AOPStorage
import Glibc
import Testing

/// The storage work aop-server does at start-up and under its first clients, over io_uring files:
/// topics opened concurrently, appends, reads served by the tail cache and by the file, cursor
/// checkpoints from several actors at once, then shutdown and recovery.
@Suite struct URingStorageStartupTests {
    static func directory(_ name: String) -> String {
        "/tmp/aop-uring-storage-\(name)-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))"
    }

    @Test(arguments: [0, 128 << 10])
    func concurrentTopicsAppendsReadsAndCursors(tailCacheBytes: Int) async throws {
        let directory = Self.directory("startup-\(tailCacheBytes)")
        let topicCount = 6
        let appendsPerTopic = 40
        defer { removeTree(directory) }
        for round in 0..<3 {
            let group = try RingLoopGroup(loops: 1, namePrefix: "test-storage")
            var options = DiskStorageOptions()
            options.tailCacheBytes = tailCacheBytes
            options.indexInterval = 4
            let engine = try await DiskStorageEngine(directory: directory, fileSystem: URingFileSystem(group: group),
                                                     options: options)
            let topics = try await withThrowingTaskGroup(of: DiskTopic.self) { tasks in
                for t in 0..<topicCount {
                    tasks.addTask { try await engine.persistentTopic(named: "queue.\(t)") }
                }
                var topics: [DiskTopic] = []
                for try await topic in tasks { topics.append(topic) }
                return topics.sorted { $0.name < $1.name }
            }
            let before = await topics[0].endPosition()
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for topic in topics {
                    for i in 0..<appendsPerTopic {
                        tasks.addTask { _ = try await topic.append([payload("\(topic.name)-\(round)-\(i)")]) }
                    }
                    tasks.addTask { try await engine.metadata.put("definition.\(topic.name)", payload("\(round)")) }
                }
                try await tasks.waitForAll()
            }
            let results = try await withThrowingTaskGroup(of: (String, [[UInt8]]).self) { tasks in
                for topic in topics {
                    for c in 0..<3 {
                        let consumer = StartupConsumer(topic: topic, cursorName: "cursor-\(c)")
                        tasks.addTask { (topic.name, try await consumer.consume(until: await topic.endPosition())) }
                    }
                }
                var results: [(String, [[UInt8]])] = []
                for try await result in tasks { results.append(result) }
                return results
            }
            #expect(results.count == topicCount * 3)
            for (name, payloads) in results {
                let expected = (0...round).flatMap { r in (0..<appendsPerTopic).map { "\(name)-\(r)-\($0)" } }
                #expect(payloads.map { String(decoding: $0, as: UTF8.self) }.sorted() == expected.sorted())
            }
            #expect(before == Position(UInt64(round * appendsPerTopic)))
            for topic in topics {
                let cursor = try await topic.durableCursor(named: "cursor-0")
                #expect(await cursor.markDeletePosition == Position(UInt64((round + 1) * appendsPerTopic)))
            }
            await engine.shutdown()
            group.shutdown()
        }
    }
}
