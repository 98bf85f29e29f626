import Glibc

/// Wraps a `FileSystem` and injects the faults in `faults` (ENOSPC, short writes, EIO) into the
/// files it opens, for storage tests.
public struct FaultInjectingFileSystem: FileSystem {
    public let wrapped: any FileSystem
    public let faults: FileFaults

    public init(wrapping wrapped: any FileSystem, faults: FileFaults = FileFaults()) {
        self.wrapped = wrapped
        self.faults = faults
    }

    public func open(path: String, create: Bool) async throws(IOError) -> any AsyncFile {
        FaultInjectingFile(wrapped: try await self.wrapped.open(path: path, create: create), faults: self.faults)
    }

    public func remove(path: String) throws(IOError) { try self.wrapped.remove(path: path) }
    public func rename(from: String, to: String) throws(IOError) { try self.wrapped.rename(from: from, to: to) }
    public func listDirectory(path: String) throws(IOError) -> [String] {
        try self.wrapped.listDirectory(path: path)
    }
    public func createDirectory(path: String) throws(IOError) { try self.wrapped.createDirectory(path: path) }
    public func fileExists(path: String) -> Bool { self.wrapped.fileExists(path: path) }
    public func syncDirectory(path: String) async throws(IOError) {
        if self.faults.settings.syncError { throw IOError(errno: EIO, operation: "fsync directory \(path) (injected)") }
        try await self.wrapped.syncDirectory(path: path)
    }
}

/// A file whose writes, reads and syncs consult `FileFaults` first.
final class FaultInjectingFile: AsyncFile {
    let wrapped: any AsyncFile
    let faults: FileFaults

    init(wrapped: any AsyncFile, faults: FileFaults) {
        self.wrapped = wrapped
        self.faults = faults
    }

    var path: String { self.wrapped.path }

    func size() async throws(IOError) -> UInt64 { try await self.wrapped.size() }

    func write(_ bytes: [UInt8], at offset: UInt64) async throws(IOError) {
        let (allowed, error) = self.faults.admitWrite(count: bytes.count)
        if allowed > 0 {
            try await self.wrapped.write(allowed == bytes.count ? bytes : Array(bytes.prefix(allowed)), at: offset)
        }
        if let error {
            throw IOError(errno: error, operation: "write \(self.path) (injected after \(allowed) bytes)")
        }
    }

    func read(count: Int, at offset: UInt64) async throws(IOError) -> [UInt8] {
        if self.faults.settings.readError { throw IOError(errno: EIO, operation: "read \(self.path) (injected)") }
        return try await self.wrapped.read(count: count, at: offset)
    }

    func sync() async throws(IOError) {
        if self.faults.settings.syncError { throw IOError(errno: EIO, operation: "fdatasync \(self.path) (injected)") }
        try await self.wrapped.sync()
    }

    func truncate(to size: UInt64) async throws(IOError) { try await self.wrapped.truncate(to: size) }

    func close() async { await self.wrapped.close() }
}
