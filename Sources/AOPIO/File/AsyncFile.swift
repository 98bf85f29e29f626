/// A file opened for positional I/O. The io_uring implementation submits each operation to a ring;
/// a POSIX implementation exists for platforms without io_uring and for tests; a fault-injecting
/// wrapper exists for tests (ENOSPC, short writes, EIO).
public protocol AsyncFile: AnyObject, Sendable {
    var path: String { get }
    /// Current size in bytes.
    func size() async throws(IOError) -> UInt64
    /// Writes all of `bytes` at `offset` (short writes are continued internally) or throws.
    func write(_ bytes: [UInt8], at offset: UInt64) async throws(IOError)
    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    func read(count: Int, at offset: UInt64) async throws(IOError) -> [UInt8]
    /// fdatasync.
    func sync() async throws(IOError)
    func truncate(to size: UInt64) async throws(IOError)
    func close() async
}

/// Opens files and manages directories, so storage can run on io_uring, POSIX or a fault injector.
public protocol FileSystem: Sendable {
    /// Opens a file read-write, creating it when `create` is true.
    func open(path: String, create: Bool) async throws(IOError) -> any AsyncFile
    /// Removes a file or an empty directory.
    func remove(path: String) throws(IOError)
    func rename(from: String, to: String) throws(IOError)
    /// Names (not paths) of entries in a directory, sorted.
    func listDirectory(path: String) throws(IOError) -> [String]
    /// Creates the directory and any missing parents.
    func createDirectory(path: String) throws(IOError)
    func fileExists(path: String) -> Bool
    /// fsyncs a directory so creates, renames and removes in it are durable.
    func syncDirectory(path: String) async throws(IOError)
}
