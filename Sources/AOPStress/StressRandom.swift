/// SplitMix64: a small, fast, seeded generator, so that a run's operation streams can be replayed from
/// its seed.
public struct StressRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    /// A generator for one stream of a run (e.g. one channel slot), independent of the others.
    public init(seed: UInt64, stream: UInt64...) {
        var mixed = StressRandom(seed: seed)
        var value = mixed.next()
        for part in stream {
            var step = StressRandom(seed: value ^ (part &* 0x9E37_79B9_7F4A_7C15))
            value = step.next()
        }
        self.state = value
    }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(self.next() % UInt64(range.count))
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        Double(self.next() >> 11) / Double(1 << 53) < p
    }

    /// An index chosen with probability proportional to its weight (weights ≥ 0, sum > 0).
    public mutating func weighted(_ weights: [Int]) -> Int {
        let total = weights.reduce(0, +)
        precondition(total > 0, "weights must not all be zero")
        var roll = self.int(in: 0...(total - 1))
        for (index, weight) in weights.enumerated() {
            if roll < weight { return index }
            roll -= weight
        }
        return weights.count - 1
    }
}
