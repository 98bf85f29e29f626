/// Faults a `TCPConnection` injects into its receive and send paths (for stress tests). Off by default.
///
/// A listener hands every accepted connection `forConnection(_:)` of its faults: its own seed, and the
/// per-connection reset (`resetProbability`, `resetWindow`) resolved into `resetAfterBytes`.
/// `SocketFaults(spec:)` parses the text form used by `aop-server --socket-faults` / `AOP_SOCKET_FAULTS`.
public struct SocketFaults: Sendable, Hashable {
    /// When set, every received chunk is delivered in pieces of 1...`maxReadPiece` bytes (short reads).
    public var maxReadPiece: Int?
    /// Probability (0...1) that an empty chunk (`[]`) is delivered before a piece, like a wakeup
    /// that found no data (EAGAIN). Consumers must treat `[]` as "nothing yet".
    public var emptyWakeupProbability: Double
    /// When set, every send submits at most 1...`maxWritePiece` bytes (short writes; the rest
    /// follows in later sends).
    public var maxWritePiece: Int?
    /// Probability (0..<1) that a send completes with EAGAIN without sending anything (it is retried).
    public var sendEAGAINProbability: Double
    /// When set, the connection behaves as if the peer reset it once this many bytes were received:
    /// bytes up to the limit are delivered, then `receive()` throws ECONNRESET and the socket is
    /// closed with an RST (SO_LINGER 0).
    public var resetAfterBytes: Int?
    /// Probability (0...1) that `forConnection(_:)` gives a connection a reset after a number of
    /// received bytes drawn uniformly from `resetWindow` (so it usually lands in the middle of a frame).
    public var resetProbability: Double
    /// Received bytes before a reset drawn by `forConnection(_:)`.
    public var resetWindow: ClosedRange<Int>
    /// Seed of the deterministic random generator, so a failing run can be replayed.
    public var seed: UInt64

    public init(
        maxReadPiece: Int? = nil, emptyWakeupProbability: Double = 0, maxWritePiece: Int? = nil,
        sendEAGAINProbability: Double = 0, resetAfterBytes: Int? = nil, resetProbability: Double = 0,
        resetWindow: ClosedRange<Int> = 1...65_536, seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    ) {
        self.maxReadPiece = maxReadPiece
        self.emptyWakeupProbability = emptyWakeupProbability
        self.maxWritePiece = maxWritePiece
        self.sendEAGAINProbability = sendEAGAINProbability
        self.resetAfterBytes = resetAfterBytes
        self.resetProbability = resetProbability
        self.resetWindow = resetWindow
        self.seed = seed
    }

    /// No faults.
    public static let none = SocketFaults()

    /// True when any fault is configured.
    public var isActive: Bool {
        self.maxReadPiece != nil || self.emptyWakeupProbability > 0 || self.resetAfterBytes != nil
            || self.maxWritePiece != nil || self.sendEAGAINProbability > 0 || self.resetProbability > 0
    }

    /// The faults of the `index`-th accepted connection: a seed of its own (derived from `seed` and
    /// `index`), and, with probability `resetProbability`, a reset after a number of bytes drawn from
    /// `resetWindow` (an explicit `resetAfterBytes` is kept as it is).
    public func forConnection(_ index: UInt64) -> SocketFaults {
        guard self.isActive else { return self }
        var faults = self
        var random = FaultRandom(seed: self.seed ^ (index &+ 1) &* 0xD6E8_FEB8_6659_FD93)
        faults.seed = random.next()
        if faults.resetAfterBytes == nil, self.resetProbability > 0, random.chance(self.resetProbability) {
            faults.resetAfterBytes = random.next(in: self.resetWindow)
        }
        return faults
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
