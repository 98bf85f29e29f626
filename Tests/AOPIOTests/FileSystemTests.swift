import Glibc
import Testing
@testable import AOPIO

private func temporaryDirectory(_ name: String) -> String {
    "/tmp/aopio-tests-\(getpid())-\(name)"
}

private func roundTrip(_ fs: any FileSystem, directory: String) async throws {
    try fs.createDirectory(path: directory + "/sub/dir")
    #expect(fs.fileExists(path: directory + "/sub/dir"))
    let path = directory + "/sub/dir/data.log"
    let file = try await fs.open(path: path, create: true)
    let first = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
    try await file.write(first, at: 0)
    try await file.write([1, 2, 3], at: 10_000)
    try await file.sync()
    #expect(try await file.size() == 10_003)
    #expect(try await file.read(count: 10_000, at: 0) == first)
    #expect(try await file.read(count: 10, at: 9_998) == Array(first.suffix(2)) + [1, 2, 3])  // short at EOF
    try await file.truncate(to: 5)
    #expect(try await file.read(count: 100, at: 0) == Array(first.prefix(5)))
    await file.close()
    try fs.rename(from: path, to: directory + "/sub/dir/renamed.log")
    try await fs.syncDirectory(path: directory + "/sub/dir")
    #expect(try fs.listDirectory(path: directory + "/sub/dir") == ["renamed.log"])
    let reopened = try await fs.open(path: directory + "/sub/dir/renamed.log", create: false)
    #expect(try await reopened.size() == 5)
    await reopened.close()
    try fs.remove(path: directory + "/sub/dir/renamed.log")
    #expect(!fs.fileExists(path: directory + "/sub/dir/renamed.log"))
    await #expect(throws: IOError.self) { _ = try await fs.open(path: directory + "/missing", create: false) }
    // remove also takes an empty directory (storage deletes a topic's directory this way).
    try fs.remove(path: directory + "/sub/dir")
    #expect(!fs.fileExists(path: directory + "/sub/dir"))
    #expect(throws: IOError.self) { try fs.remove(path: directory + "/sub/dir") }
    for path in [directory + "/sub", directory] { rmdir(path) }
}

/// A ring-pinned actor using files, to check the io_uring file path from the loop thread itself.
actor FileUser {
    let loop: RingLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { self.loop.asUnownedSerialExecutor() }
    init(loop: RingLoop) { self.loop = loop }

    func writeAndRead(_ file: any AsyncFile) async throws -> [UInt8] {
        try await file.write([42, 43], at: 0)
        return try await file.read(count: 2, at: 0)
    }
}

@Suite struct FileSystemTests {
    @Test func posixRoundTrip() async throws {
        try await roundTrip(PosixFileSystem(), directory: temporaryDirectory("posix"))
    }

    @Test func uringRoundTrip() async throws {
        try await withLoop { loop in
            try await roundTrip(URingFileSystem(loop: loop), directory: temporaryDirectory("uring"))
        }
    }

    @Test func uringFromLoopIsolatedActorAndGroup() async throws {
        let group = try RingLoopGroup(loops: 2, namePrefix: "test-file")
        defer { group.shutdown() }
        let fs = URingFileSystem(group: group)
        let directory = temporaryDirectory("group")
        try fs.createDirectory(path: directory)
        let file = try await fs.open(path: directory + "/f", create: true)
        #expect(try await FileUser(loop: group.loops[0]).writeAndRead(file) == [42, 43])
        await file.close()
        try fs.remove(path: directory + "/f")
        rmdir(directory)
    }

    @Test func injectsNoSpaceAfterLimitWithShortWrite() async throws {
        let faults = FileFaults()
        faults.update { $0.noSpaceAfterBytes = 10 }
        let fs = FaultInjectingFileSystem(wrapping: PosixFileSystem(), faults: faults)
        let directory = temporaryDirectory("faults")
        try fs.createDirectory(path: directory)
        let file = try await fs.open(path: directory + "/f", create: true)
        try await file.write([UInt8](repeating: 1, count: 6), at: 0)
        do {
            try await file.write([UInt8](repeating: 2, count: 6), at: 6)
            Issue.record("write past the limit succeeded")
        } catch {
            #expect(error.isNoSpace)
        }
        // The crossing write was short: 4 of its bytes landed.
        #expect(try await file.read(count: 100, at: 0) == [UInt8](repeating: 1, count: 6) + [UInt8](repeating: 2, count: 4))
        faults.update { $0.noSpaceAfterBytes = nil }
        try await file.write([3], at: 10)
        #expect(faults.bytesWritten == 11)
        await file.close()
        try fs.remove(path: directory + "/f")
        rmdir(directory)
    }

    @Test func injectsNoSpaceFlagEIOAndShortWrite() async throws {
        let faults = FileFaults()
        let fs = FaultInjectingFileSystem(wrapping: PosixFileSystem(), faults: faults)
        let directory = temporaryDirectory("flags")
        try fs.createDirectory(path: directory)
        let file = try await fs.open(path: directory + "/f", create: true)
        faults.update { $0.noSpace = true }
        await #expect(throws: IOError(errno: ENOSPC, operation: "write \(directory)/f (injected after 0 bytes)")) {
            try await file.write([1], at: 0)
        }
        faults.update {
            $0.noSpace = false
            $0.readError = true
            $0.syncError = true
            $0.shortWriteOnce = 2
        }
        do {
            try await file.write([7, 8, 9, 10], at: 0)
            Issue.record("short write succeeded")
        } catch {
            #expect(error.errno == EIO)
        }
        try await file.write([11], at: 4)  // one-shot: this one is whole
        do {
            _ = try await file.read(count: 1, at: 0)
            Issue.record("read succeeded")
        } catch {
            #expect(error.errno == EIO)
        }
        await #expect(throws: IOError.self) { try await file.sync() }
        faults.update { $0.readError = false }
        #expect(try await file.read(count: 10, at: 0) == [7, 8, 0, 0, 11])
        await file.close()
        try fs.remove(path: directory + "/f")
        rmdir(directory)
    }
}
