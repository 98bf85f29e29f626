extension SocketFaults {
    /// A text form of the faults, for a command-line option or an environment variable.
    ///
    /// Comma-separated `key=value` pairs, all optional:
    /// - `seed=N`: seed of the random generators (decimal or 0x hex);
    /// - `read=N`: short reads of 1...N bytes (`maxReadPiece`);
    /// - `write=N`: short writes of 1...N bytes (`maxWritePiece`);
    /// - `eagain=P`: probability of an empty receive wakeup and of a send completing with EAGAIN;
    /// - `reset=P`: probability that a connection is reset after `reset-bytes` received bytes;
    /// - `reset-bytes=A-B` (or `N`): the window the reset point is drawn from (default 1-65536).
    ///
    /// Example: `seed=7,read=13,write=17,eagain=0.05,reset=0.2,reset-bytes=200-20000`.
    /// An empty string gives no faults.
    /// - Throws: `SocketFaults.SpecError` naming the bad pair.
    public init(spec: String) throws(SpecError) {
        self.init()
        for pair in spec.split(separator: ",") where !pair.allSatisfy(\.isWhitespace) {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
            guard parts.count == 2 else { throw SpecError(pair: String(pair)) }
            let (key, value) = (parts[0], parts[1])
            switch key {
            case "seed":
                guard let seed = Self.parseUInt64(value) else { throw SpecError(pair: String(pair)) }
                self.seed = seed
            case "read":
                guard let n = Int(value), n > 0 else { throw SpecError(pair: String(pair)) }
                self.maxReadPiece = n
            case "write":
                guard let n = Int(value), n > 0 else { throw SpecError(pair: String(pair)) }
                self.maxWritePiece = n
            case "eagain":
                guard let p = Double(value), p >= 0, p < 1 else { throw SpecError(pair: String(pair)) }
                self.emptyWakeupProbability = p
                self.sendEAGAINProbability = p
            case "reset":
                guard let p = Double(value), p >= 0, p <= 1 else { throw SpecError(pair: String(pair)) }
                self.resetProbability = p
            case "reset-bytes":
                let bounds = value.split(separator: "-", maxSplits: 1).compactMap { Int($0) }
                guard (1...2).contains(bounds.count), let low = bounds.first, let high = bounds.last, low >= 0,
                    high >= low
                else { throw SpecError(pair: String(pair)) }
                self.resetWindow = low...high
            default:
                throw SpecError(pair: String(pair))
            }
        }
    }

    /// A malformed `key=value` pair in a faults spec.
    public struct SpecError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The pair that could not be parsed.
        public var pair: String
        public var description: String {
            "bad socket fault '\(self.pair)' (expected seed=N, read=N, write=N, eagain=P, reset=P, reset-bytes=A-B)"
        }
    }

    private static func parseUInt64(_ text: String) -> UInt64? {
        if text.hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) }
        return UInt64(text)
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(self.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
