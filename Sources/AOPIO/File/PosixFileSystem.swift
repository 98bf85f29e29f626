import Glibc

/// Blocking POSIX files (pread/pwrite/fdatasync on the caller's thread). Fine for tests and tools.
public struct PosixFileSystem: FileSystem, PosixDirectories {
    public init() {}

    public func open(path: String, create: Bool) async throws(IOError) -> any AsyncFile {
        PosixFile(path: path, fd: try PosixDirectoryOperations.openFile(path: path, create: create))
    }

    public func syncDirectory(path: String) async throws(IOError) {
        let fd = try PosixDirectoryOperations.openDirectory(path: path)
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw IOError.lastError("fsync directory \(path)") }
    }
}

/// A file used with blocking positional calls.
final class PosixFile: AsyncFile {
    let path: String
    private let fd: Int32

    init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    func size() async throws(IOError) -> UInt64 {
        try PosixDirectoryOperations.size(fd: self.fd, path: self.path)
    }

    func write(_ bytes: [UInt8], at offset: UInt64) async throws(IOError) {
        var done = 0
        while done < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                pwrite(self.fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
            }
            if written < 0 {
                if Glibc.errno == EINTR { continue }
                throw IOError.lastError("pwrite \(self.path)")
            }
            done += written
        }
    }

    func read(count: Int, at offset: UInt64) async throws(IOError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { raw in
                pread(self.fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            }
            if got < 0 {
                if Glibc.errno == EINTR { continue }
                throw IOError.lastError("pread \(self.path)")
            }
            if got == 0 { break }
            done += got
        }
        bytes.removeLast(count - done)
        return bytes
    }

    func sync() async throws(IOError) {
        guard fdatasync(self.fd) == 0 else { throw IOError.lastError("fdatasync \(self.path)") }
    }

    func truncate(to size: UInt64) async throws(IOError) {
        try PosixDirectoryOperations.truncate(fd: self.fd, path: self.path, to: size)
    }

    func close() async {
        Glibc.close(self.fd)
    }
}
