import CURing
import Glibc

extension RingLoop {
    /// Checks that io_uring is usable in this process, so a server can exit early naming the cause.
    ///
    /// Reads `/proc/sys/kernel/io_uring_disabled`, creates a small ring (fails with ENOSYS on kernels
    /// without io_uring, EPERM when seccomp or the sysctl forbid it) and checks the opcodes the
    /// transport uses.
    public static func probe() throws(IOError) {
        if let disabled = Self.readSysctl("/proc/sys/kernel/io_uring_disabled"), disabled != 0 {
            if disabled == 2 {
                throw IOError(errno: EPERM, operation: "io_uring is disabled (sysctl kernel.io_uring_disabled=2)")
            }
            // 1: only processes in kernel.io_uring_group (or CAP_SYS_ADMIN) may create rings; the
            // ring creation below tells whether we are one of them.
        }
        let ring = UnsafeMutablePointer<io_uring>.allocate(capacity: 1)
        ring.initialize(to: io_uring())
        defer { ring.deallocate() }
        let ret = io_uring_queue_init(8, ring, 0)
        guard ret >= 0 else {
            let cause: String
            switch -ret {
            case ENOSYS: cause = "io_uring_setup: not supported by this kernel or blocked by seccomp"
            case EPERM: cause = "io_uring_setup: not permitted (seccomp filter or kernel.io_uring_disabled)"
            case ENOMEM: cause = "io_uring_setup: out of locked memory (RLIMIT_MEMLOCK)"
            default: cause = "io_uring_setup"
            }
            throw IOError(result: ret, operation: cause)
        }
        defer { io_uring_queue_exit(ring) }
        guard let probe = io_uring_get_probe_ring(ring) else {
            throw IOError(errno: EOPNOTSUPP, operation: "io_uring probe (kernel too old)")
        }
        defer { io_uring_free_probe(probe) }
        let needed: [(io_uring_op, String)] = [
            (IORING_OP_ACCEPT, "accept"), (IORING_OP_RECV, "recv"), (IORING_OP_SEND, "send"),
            (IORING_OP_READ, "read"), (IORING_OP_WRITE, "write"), (IORING_OP_FSYNC, "fsync"),
            (IORING_OP_TIMEOUT, "timeout"), (IORING_OP_TIMEOUT_REMOVE, "timeout_remove"),
            (IORING_OP_ASYNC_CANCEL, "async_cancel"), (IORING_OP_PROVIDE_BUFFERS, "provide_buffers"),
        ]
        for (opcode, name) in needed where io_uring_opcode_supported(probe, Int32(opcode.rawValue)) == 0 {
            throw IOError(errno: EOPNOTSUPP, operation: "io_uring opcode \(name) not supported by this kernel")
        }
    }

    private static func readSysctl(_ path: String) -> Int? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let text = String(decoding: bytes[..<count], as: UTF8.self)
        return Int(text.filter { !$0.isWhitespace })
    }
}
