import Glibc

/// A growable malloc'd byte buffer for outbound data (no copy-on-write, no reference counting).
/// The owner frees it with `deallocate()`; while a send is in flight the kernel reads from it, so
/// the connection never touches the in-flight one until its CQE.
struct OutboundBuffer {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var count = 0
    private(set) var capacity = 0

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        let needed = self.count + bytes.count
        if needed > self.capacity {
            let capacity = max(needed, max(4096, self.capacity * 2))
            guard let grown = realloc(self.base, capacity) else { fatalError("out of memory (outbound buffer)") }
            self.base = grown
            self.capacity = capacity
        }
        (self.base! + self.count).copyMemory(from: source, byteCount: bytes.count)
        self.count = needed
    }

    /// Forgets the contents, keeping up to 1 MiB of capacity for reuse.
    mutating func clear() {
        self.count = 0
        if self.capacity > 1 << 20 {
            self.deallocate()
        }
    }

    mutating func deallocate() {
        free(self.base)
        self.base = nil
        self.count = 0
        self.capacity = 0
    }
}
