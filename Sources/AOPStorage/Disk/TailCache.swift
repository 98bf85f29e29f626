/// The most recently written bytes of a topic's active segment, so consumers that keep up with
/// producers read from memory instead of the file. Bounded by `capacity`; pure value, no I/O.
struct TailCache: Sendable, Equatable {
    let capacity: Int
    /// First position of the segment the bytes belong to.
    private(set) var segment: UInt64?
    /// File offset of `bytes[0]`.
    private(set) var start: Int = 0
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var end: Int { self.start + self.bytes.count }

    /// Forgets everything; the next append starts a new run at its offset.
    mutating func reset() {
        self.segment = nil
        self.bytes = []
        self.start = 0
    }

    /// Records bytes written at `offset` of `segment`. A write that does not continue the cached run
    /// (another segment, or a gap) starts a new run.
    mutating func append(_ data: [UInt8], segment: UInt64, at offset: Int) {
        guard self.capacity > 0 else { return }
        if self.segment != segment || offset != self.end {
            self.segment = segment
            self.start = offset
            self.bytes = []
        }
        if data.count >= self.capacity {
            self.bytes = Array(data[(data.count - self.capacity)...])
            self.start = offset + data.count - self.capacity
            return
        }
        self.bytes.append(contentsOf: data)
        if self.bytes.count > self.capacity {
            let drop = self.bytes.count - self.capacity
            self.bytes.removeFirst(drop)
            self.start += drop
        }
    }

    /// Up to `count` cached bytes from `offset` of `segment`, when at least `needed` of them are cached.
    func read(segment: UInt64, offset: Int, needed: Int, count: Int) -> [UInt8]? {
        guard self.segment == segment, offset >= self.start, offset + needed <= self.end else { return nil }
        return Array(self.bytes[(offset - self.start)..<(min(self.end, offset + count) - self.start)])
    }
}
