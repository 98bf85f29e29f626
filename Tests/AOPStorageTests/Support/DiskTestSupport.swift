import AOPIO
@testable import AOPStorage
import Synchronization

/// A clock the retention tests move by hand.
final class ManualMillisecondClock: Sendable {
    let now = Atomic<UInt64>(1_000_000)
    func advance(by milliseconds: UInt64) { self.now.add(milliseconds, ordering: .relaxed) }
    var function: @Sendable () -> UInt64 { { self.now.load(ordering: .relaxed) } }
}

func payload(_ text: String) -> [UInt8] { Array(text.utf8) }

func openEngine(_ fs: SimulatedFileSystem, _ configure: (inout DiskStorageOptions) -> Void = { _ in })
    async throws -> DiskStorageEngine
{
    var options = DiskStorageOptions()
    configure(&options)
    return try await DiskStorageEngine(directory: "/data", fileSystem: fs, options: options)
}

/// Paths of a topic's segment files, sorted.
func segmentPaths(_ fs: SimulatedFileSystem, topic: String) throws -> [String] {
    let directory = "/data/topics/" + topic
    return try fs.listDirectory(path: directory).filter { $0.hasSuffix(".seg") }.map { directory + "/" + $0 }
}
