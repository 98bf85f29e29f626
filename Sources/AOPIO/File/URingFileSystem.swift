import CURing
import Glibc

/// Files whose reads, writes and fdatasyncs are io_uring operations on a `RingLoop`.
/// Callable from any isolation: off the loop thread the operation is handed to the ring and the
/// caller resumes from its CQE. Open, rename, list and truncate are blocking metadata calls.
public struct URingFileSystem: FileSystem, PosixDirectories {
    private let loopForFile: @Sendable () -> RingLoop

    /// All files use `loop`.
    public init(loop: RingLoop) {
        self.loopForFile = { loop }
    }

    /// Files are spread over the group's loops round-robin (one loop per opened file).
    public init(group: RingLoopGroup) {
        self.loopForFile = { group.next() }
    }

    public func open(path: String, create: Bool) async throws(IOError) -> any AsyncFile {
        let fd = try PosixDirectoryOperations.openFile(path: path, create: create)
        return URingFile(path: path, fd: fd, loop: self.loopForFile())
    }

    public func syncDirectory(path: String) async throws(IOError) {
        let fd = try PosixDirectoryOperations.openDirectory(path: path)
        defer { Glibc.close(fd) }
        let result = await self.loopForFile().perform(RingOperation(cancellation: .none)) { sqe in
            io_uring_prep_fsync(sqe, fd, 0)
        }
        guard result >= 0 else { throw IOError(result: result, operation: "fsync directory \(path)") }
    }
}

/// Heap bytes the kernel reads or writes during one operation; freed after the CQE.
///
/// `@unchecked Sendable`: it crosses to the loop thread once, the kernel uses it between submission
/// and CQE, and the caller reads it only after resuming from the CQE (resumption orders the accesses).
final class IOBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let count: Int

    init(count: Int) {
        self.count = count
        self.pointer = .allocate(byteCount: max(count, 1), alignment: 64)
    }

    convenience init(copying bytes: [UInt8]) {
        self.init(count: bytes.count)
        bytes.withUnsafeBytes { self.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    deinit { self.pointer.deallocate() }
}

/// A file on io_uring: every read, write and sync is one SQE (short transfers are continued).
final class URingFile: AsyncFile {
    let path: String
    private let fd: Int32
    private let loop: RingLoop

    init(path: String, fd: Int32, loop: RingLoop) {
        self.path = path
        self.fd = fd
        self.loop = loop
    }

    func size() async throws(IOError) -> UInt64 {
        try PosixDirectoryOperations.size(fd: self.fd, path: self.path)
    }

    func write(_ bytes: [UInt8], at offset: UInt64) async throws(IOError) {
        guard !bytes.isEmpty else { return }
        let buffer = IOBytes(copying: bytes)
        let fd = self.fd
        var done = 0
        while done < buffer.count {
            let start = done
            let result = await self.loop.perform(RingOperation(cancellation: .none, keepAlive: buffer)) { sqe in
                io_uring_prep_write(
                    sqe, fd, buffer.pointer + start, UInt32(buffer.count - start), offset + UInt64(start))
            }
            if result == -EINTR || result == -EAGAIN { continue }
            guard result > 0 else {
                throw IOError(result: result == 0 ? -EIO : result, operation: "write \(self.path)")
            }
            done += Int(result)
        }
    }

    func read(count: Int, at offset: UInt64) async throws(IOError) -> [UInt8] {
        guard count > 0 else { return [] }
        let buffer = IOBytes(count: count)
        let fd = self.fd
        var done = 0
        while done < count {
            let start = done
            let result = await self.loop.perform(RingOperation(cancellation: .none, keepAlive: buffer)) { sqe in
                io_uring_prep_read(sqe, fd, buffer.pointer + start, UInt32(count - start), offset + UInt64(start))
            }
            if result == -EINTR || result == -EAGAIN { continue }
            guard result >= 0 else { throw IOError(result: result, operation: "read \(self.path)") }
            if result == 0 { break }
            done += Int(result)
        }
        return [UInt8](UnsafeRawBufferPointer(start: buffer.pointer, count: done))
    }

    func sync() async throws(IOError) {
        let fd = self.fd
        let result = await self.loop.perform(RingOperation(cancellation: .none)) { sqe in
            io_uring_prep_fsync(sqe, fd, aop_IORING_FSYNC_DATASYNC)
        }
        guard result >= 0 else { throw IOError(result: result, operation: "fdatasync \(self.path)") }
    }

    func truncate(to size: UInt64) async throws(IOError) {
        try PosixDirectoryOperations.truncate(fd: self.fd, path: self.path, to: size)
    }

    func close() async {
        Glibc.close(self.fd)
    }
}
