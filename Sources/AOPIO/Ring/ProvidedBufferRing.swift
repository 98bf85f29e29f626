import CURing
import Glibc

/// A provided-buffer ring (`io_uring_register_buf_ring`) the kernel picks recv buffers from.
///
/// liburing 2.3 has no `io_uring_setup_buf_ring`, so the ring memory is page-aligned by hand.
/// Ring-confined: buffers are recycled on the loop thread right after their data was copied out.
final class ProvidedBufferRing {
    let groupID: UInt16
    let bufferSize: Int
    let count: Int
    private let ring: UnsafeMutablePointer<io_uring>
    private let bufferRing: UnsafeMutablePointer<io_uring_buf_ring>
    private let storage: UnsafeMutableRawPointer
    private let mask: Int32

    init(ring: UnsafeMutablePointer<io_uring>, groupID: UInt16, count: Int, bufferSize: Int) throws(IOError) {
        precondition(count > 0 && count & (count - 1) == 0 && count <= 32768, "count must be a power of two")
        self.ring = ring
        self.groupID = groupID
        self.count = count
        self.bufferSize = bufferSize
        self.mask = io_uring_buf_ring_mask(UInt32(count))
        var memory: UnsafeMutableRawPointer?
        let ringBytes = count * MemoryLayout<io_uring_buf>.stride
        guard posix_memalign(&memory, 4096, ringBytes) == 0, let memory else {
            throw IOError(errno: ENOMEM, operation: "posix_memalign(buffer ring)")
        }
        memset(memory, 0, ringBytes)
        self.bufferRing = memory.bindMemory(to: io_uring_buf_ring.self, capacity: 1)
        self.storage = .allocate(byteCount: count * bufferSize, alignment: 64)
        var registration = io_uring_buf_reg()
        registration.ring_addr = UInt64(UInt(bitPattern: memory))
        registration.ring_entries = UInt32(count)
        registration.bgid = groupID
        let ret = io_uring_register_buf_ring(ring, &registration, 0)
        guard ret == 0 else {
            free(memory)
            self.storage.deallocate()
            throw IOError(result: ret, operation: "io_uring_register_buf_ring")
        }
        io_uring_buf_ring_init(self.bufferRing)
        for id in 0..<count {
            self.add(id, offset: id)
        }
        io_uring_buf_ring_advance(self.bufferRing, Int32(count))
    }

    deinit {
        // The loop drops its buffer ring after all operations completed and before io_uring_queue_exit.
        _ = io_uring_unregister_buf_ring(self.ring, Int32(self.groupID))
        free(UnsafeMutableRawPointer(self.bufferRing))
        self.storage.deallocate()
    }

    /// The bytes of buffer `id` (valid until it is recycled).
    func bytes(id: Int, count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: self.storage + id * self.bufferSize, count: count)
    }

    /// Gives buffer `id` back to the kernel.
    func recycle(id: Int) {
        self.add(id, offset: 0)
        io_uring_buf_ring_advance(self.bufferRing, 1)
    }

    private func add(_ id: Int, offset: Int) {
        io_uring_buf_ring_add(
            self.bufferRing, self.storage + id * self.bufferSize, UInt32(self.bufferSize), UInt16(id),
            self.mask, Int32(offset))
    }
}

extension RingLoop {
    /// Buffer group the recvs of this loop's connections pick their buffers from.
    static let recvBufferGroup: UInt16 = 1

    /// The loop's recv buffer ring, created on first use. Loop thread only.
    func recvBuffers() throws(IOError) -> ProvidedBufferRing {
        if let buffers = self.providedBuffers { return buffers }
        let buffers = try ProvidedBufferRing(
            ring: self.ring, groupID: Self.recvBufferGroup, count: 256, bufferSize: 16 * 1024)
        self.providedBuffers = buffers
        return buffers
    }
}
