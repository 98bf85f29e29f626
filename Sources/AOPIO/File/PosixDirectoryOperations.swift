import Glibc

/// Blocking directory and path operations shared by the file systems (metadata calls are rare and
/// short, so they run on the caller's thread).
enum PosixDirectoryOperations {
    static func openFile(path: String, create: Bool) throws(IOError) -> Int32 {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else { throw IOError.lastError("open \(path)") }
        return fd
    }

    /// Removes a file or an empty directory (like C's `remove`).
    static func remove(path: String) throws(IOError) {
        if unlink(path) == 0 { return }
        guard errno == EISDIR else { throw IOError.lastError("unlink \(path)") }
        guard rmdir(path) == 0 else { throw IOError.lastError("rmdir \(path)") }
    }

    static func rename(from: String, to: String) throws(IOError) {
        guard Glibc.rename(from, to) == 0 else { throw IOError.lastError("rename \(from) -> \(to)") }
    }

    static func listDirectory(path: String) throws(IOError) -> [String] {
        guard let directory = opendir(path) else { throw IOError.lastError("opendir \(path)") }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func createDirectory(path: String) throws(IOError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0, Glibc.errno != EEXIST {
                throw IOError.lastError("mkdir \(prefix)")
            }
        }
    }

    static func fileExists(path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func openDirectory(path: String) throws(IOError) -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw IOError.lastError("open directory \(path)") }
        return fd
    }

    static func size(fd: Int32, path: String) throws(IOError) -> UInt64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw IOError.lastError("fstat \(path)") }
        return UInt64(info.st_size)
    }

    static func truncate(fd: Int32, path: String, to size: UInt64) throws(IOError) {
        guard ftruncate(fd, off_t(size)) == 0 else { throw IOError.lastError("ftruncate \(path)") }
    }
}

/// File systems whose directory operations are plain POSIX calls (the POSIX and io_uring file systems).
protocol PosixDirectories {}

extension PosixDirectories {
    public func remove(path: String) throws(IOError) { try PosixDirectoryOperations.remove(path: path) }
    public func rename(from: String, to: String) throws(IOError) {
        try PosixDirectoryOperations.rename(from: from, to: to)
    }
    public func listDirectory(path: String) throws(IOError) -> [String] {
        try PosixDirectoryOperations.listDirectory(path: path)
    }
    public func createDirectory(path: String) throws(IOError) {
        try PosixDirectoryOperations.createDirectory(path: path)
    }
    public func fileExists(path: String) -> Bool { PosixDirectoryOperations.fileExists(path: path) }
}
