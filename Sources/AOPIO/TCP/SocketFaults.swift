/// Faults a `TCPConnection` injects into its receive path (for stress tests). Off by default.
public struct SocketFaults: Sendable, Hashable {
    /// When set, every received chunk is delivered in pieces of 1...`maxReadPiece` bytes (short reads).
    public var maxReadPiece: Int?
    /// Probability (0...1) that an empty chunk (`[]`) is delivered before a piece, like a wakeup
    /// that found no data (EAGAIN). Consumers must treat `[]` as "nothing yet".
    public var emptyWakeupProbability: Double
    /// When set, the connection behaves as if the peer reset it once this many bytes were received:
    /// bytes up to the limit are delivered, then `receive()` throws ECONNRESET and the socket is
    /// closed with an RST (SO_LINGER 0).
    public var resetAfterBytes: Int?
    /// Seed of the deterministic random generator, so a failing run can be replayed.
    public var seed: UInt64

    public init(
        maxReadPiece: Int? = nil, emptyWakeupProbability: Double = 0, resetAfterBytes: Int? = nil,
        seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    ) {
        self.maxReadPiece = maxReadPiece
        self.emptyWakeupProbability = emptyWakeupProbability
        self.resetAfterBytes = resetAfterBytes
        self.seed = seed
    }

    /// No faults.
    public static let none = SocketFaults()

    var isActive: Bool {
        self.maxReadPiece != nil || self.emptyWakeupProbability > 0 || self.resetAfterBytes != nil
    }
}

/// xorshift64*: small, fast, deterministic.
struct FaultRandom {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    mutating func next() -> UInt64 {
        self.state ^= self.state >> 12
        self.state ^= self.state << 25
        self.state ^= self.state >> 27
        return self.state &* 0x2545_F491_4F6C_DD1D
    }

    /// Uniform in `range`.
    mutating func next(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(self.next() % UInt64(range.count))
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        Double(self.next() >> 11) / Double(1 << 53) < p
    }
}
