import AOPIO
import AOPStorage
import Glibc
import Testing

/// Hand-run measurement (not a pass/fail speed test): append throughput and fdatasyncs per second
/// against a real directory, for several numbers of concurrent appenders. Run with
/// `AOP_STORAGE_BENCH_DIR=/some/dir swift test --filter StorageThroughputMeasurement`.
@Suite(.enabled(if: getenv("AOP_STORAGE_BENCH_DIR") != nil))
struct StorageThroughputMeasurement {
    @Test func appendThroughputVersusConcurrency() async throws {
        let root = String(cString: getenv("AOP_STORAGE_BENCH_DIR")!)
        let fs = PosixTestFileSystem()
        for (topics, appendersPerTopic) in [(1, 1), (1, 16), (1, 128), (8, 16), (32, 8)] {
            let directory = root + "/run-\(topics)x\(appendersPerTopic)-\(getpid())"
            let engine = try await DiskStorageEngine(directory: directory, fileSystem: fs)
            var handles: [DiskTopic] = []
            for t in 0..<topics { handles.append(try await engine.persistentTopic(named: "t\(t)")) }
            let body = [UInt8](repeating: 0x61, count: 1024)
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(2))
            let start = clock.now
            let before = engine.statistics()
            let appended = try await withThrowingTaskGroup(of: Int.self) { group in
                for topic in handles {
                    for _ in 0..<appendersPerTopic {
                        group.addTask {
                            var count = 0
                            while clock.now < deadline {
                                _ = try await topic.append([body])
                                count += 1
                            }
                            return count
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            let elapsed = (clock.now - start).components
            let seconds: Double = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            let stats = engine.statistics()
            let syncs: Int = stats.fileSyncs - before.fileSyncs
            let rounds: Int = stats.commitRounds - before.commitRounds
            let appendRate = Int(Double(appended) / seconds)
            let syncRate = Int(Double(syncs) / seconds)
            let roundRate = Int(Double(rounds) / seconds)
            let perSync = Double(appended) / Double(max(1, syncs))
            var line = "topics \(topics) appenders/topic \(appendersPerTopic): \(appendRate) appends/s (1 KiB), "
            line += "\(syncRate) fdatasync/s, \(roundRate) rounds/s, \(perSync) entries per fdatasync"
            print(line)
            #expect(appended > 0)
            await engine.shutdown()
        }
    }
}
