import AOPIO
import Glibc

/// A blocking POSIX `FileSystem` for hand-run measurements against a real directory (the real
/// implementations live in AOPIO). Each call blocks its thread; good enough to measure fsync behaviour.
struct PosixTestFileSystem: FileSystem {
    func open(path: String, create: Bool) async throws(IOError) -> any AsyncFile {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0o644)
        guard fd >= 0 else { throw IOError(errno: errno, operation: "open \(path)") }
        return PosixTestFile(fd: fd, path: path)
    }

    func remove(path: String) throws(IOError) {
        guard Glibc.remove(path) == 0 else { throw IOError(errno: errno, operation: "remove \(path)") }
    }

    func rename(from: String, to: String) throws(IOError) {
        guard Glibc.rename(from, to) == 0 else { throw IOError(errno: errno, operation: "rename \(from)") }
    }

    func listDirectory(path: String) throws(IOError) -> [String] {
        guard let dir = opendir(path) else { throw IOError(errno: errno, operation: "opendir \(path)") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    func createDirectory(path: String) throws(IOError) {
        var prefix = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0, errno != EEXIST { throw IOError(errno: errno, operation: "mkdir \(prefix)") }
        }
    }

    func fileExists(path: String) -> Bool {
        access(path, F_OK) == 0
    }

    func syncDirectory(path: String) async throws(IOError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw IOError(errno: errno, operation: "open \(path)") }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw IOError(errno: errno, operation: "fsync \(path)") }
    }
}

/// A file descriptor; the descriptor is only closed once by `close()` (callers never use it afterwards).
final class PosixTestFile: AsyncFile {
    let fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    func size() async throws(IOError) -> UInt64 {
        var st = stat()
        guard fstat(self.fd, &st) == 0 else { throw IOError(errno: errno, operation: "fstat \(self.path)") }
        return UInt64(st.st_size)
    }

    func write(_ bytes: [UInt8], at offset: UInt64) async throws(IOError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(self.fd, $0.baseAddress! + done, $0.count - done, off_t(offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(errno: errno, operation: "pwrite \(self.path)")
            }
            done += n
        }
    }

    func read(count: Int, at offset: UInt64) async throws(IOError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { pread(self.fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(errno: errno, operation: "pread \(self.path)")
            }
            if n == 0 { break }
            done += n
        }
        buffer.removeLast(count - done)
        return buffer
    }

    func sync() async throws(IOError) {
        guard fdatasync(self.fd) == 0 else { throw IOError(errno: errno, operation: "fdatasync \(self.path)") }
    }

    func truncate(to size: UInt64) async throws(IOError) {
        guard ftruncate(self.fd, off_t(size)) == 0 else { throw IOError(errno: errno, operation: "ftruncate \(self.path)") }
    }

    func close() async {
        Glibc.close(self.fd)
    }
}
