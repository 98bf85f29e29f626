import AOPStorage
import Testing

/// A tiny deterministic generator (SplitMix64) so randomized tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Checks the structural invariants and agreement with a plain set model over `0..<universe`.
func checkAgainstModel(_ set: AckRangeSet, _ model: Set<UInt64>, universe: UInt64,
                       sourceLocation: SourceLocation = #_sourceLocation) {
    var previousUpper: UInt64?
    for range in set.ranges {
        #expect(range.lowerBound < range.upperBound, sourceLocation: sourceLocation)
        #expect(range.lowerBound > set.markDelete.raw, sourceLocation: sourceLocation)
        if let previousUpper {
            // Sorted, disjoint and not adjacent.
            #expect(range.lowerBound > previousUpper, sourceLocation: sourceLocation)
        }
        previousUpper = range.upperBound
    }
    for p in 0..<universe {
        #expect(set.contains(Position(p)) == model.contains(p), "position \(p)", sourceLocation: sourceLocation)
    }
    // Mark-delete is exactly the length of the acknowledged prefix.
    var prefix: UInt64 = 0
    while model.contains(prefix) { prefix += 1 }
    #expect(set.markDelete.raw == prefix, sourceLocation: sourceLocation)
}

@Suite struct AckRangeSetTests {
    @Test func emptySetAcknowledgesNothing() {
        let set = AckRangeSet()
        #expect(set.markDelete == .zero)
        #expect(set.ranges.isEmpty)
        #expect(!set.contains(.zero))
    }

    @Test func contiguousAcksAdvanceMarkDelete() {
        var set = AckRangeSet()
        let first = set.insert(Position(0))
        let second = set.insert(Position(1))
        #expect(first && second)
        #expect(set.markDelete == Position(2))
        #expect(set.ranges.isEmpty)
        let again = set.insert(Position(1))
        #expect(!again)
    }

    @Test func gapThenFillFoldsRangesIntoMarkDelete() {
        var set = AckRangeSet()
        set.insert(Position(2))
        set.insert(Position(3))
        set.insert(Position(5))
        #expect(set.ranges == [2..<4, 5..<6])
        #expect(set.markDelete == .zero)
        set.insert(Position(4))
        #expect(set.ranges == [2..<6])
        set.insert(Position(1))
        #expect(set.ranges == [1..<6])
        set.insert(Position(0))
        #expect(set.markDelete == Position(6))
        #expect(set.ranges.isEmpty)
    }

    @Test func advanceMarkDeleteSwallowsRangesBelowAndTouching() {
        var set = AckRangeSet()
        set.insert(Position(3))
        set.insert(Position(7))
        set.insert(Position(8))
        set.insert(Position(20))
        set.advanceMarkDelete(to: Position(7))
        #expect(set.markDelete == Position(9))
        #expect(set.ranges == [20..<21])
        set.advanceMarkDelete(to: Position(4))  // never backwards
        #expect(set.markDelete == Position(9))
    }

    @Test func memoryIsProportionalToGaps() {
        var set = AckRangeSet()
        // Acknowledge every position in 1..<100_001 except multiples of 1000: 100 gaps at most.
        for p in UInt64(1)..<100_001 where p % 1000 != 0 {
            set.insert(Position(p))
        }
        #expect(set.rangeCount == 100)
        #expect(set.markDelete == .zero)
    }

    @Test func unacknowledgedListsExactlyTheGaps() {
        var set = AckRangeSet(markDelete: Position(2))
        set.insert(Position(4))
        set.insert(Position(5))
        set.insert(Position(8))
        #expect(set.unacknowledged(from: .zero, to: Position(10)) == [2, 3, 6, 7, 9].map { Position($0) })
        #expect(set.unacknowledged(from: Position(5), to: Position(8)) == [6, 7].map { Position($0) })
        #expect(set.unacknowledged(from: Position(9), to: Position(9)).isEmpty)
    }

    /// Every subset of a 10-position universe, inserted in a seeded random order, one position at a time,
    /// checked against a set model after every step.
    @Test func exhaustiveSubsetsAgreeWithSetModel() {
        let universe: UInt64 = 10
        var rng = SeededGenerator(seed: 42)
        for mask in 0..<(1 << universe) {
            var members = (0..<universe).filter { mask & (1 << $0) != 0 }
            members.shuffle(using: &rng)
            var set = AckRangeSet()
            var model = Set<UInt64>()
            for p in members {
                let inserted = set.insert(Position(p))
                #expect(inserted == model.insert(p).inserted)
                checkAgainstModel(set, model, universe: universe)
            }
            #expect(set.unacknowledged(from: .zero, to: Position(universe)).map(\.raw)
                == (0..<universe).filter { !model.contains($0) })
        }
    }

    /// Random mixes of single inserts, range inserts and mark-delete advances against the model.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomOperationsAgreeWithSetModel(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let universe: UInt64 = 64
        var set = AckRangeSet()
        var model = Set<UInt64>()
        for _ in 0..<400 {
            switch rng.next() % 6 {
            case 0:
                let p = UInt64.random(in: 0..<universe, using: &rng)
                set.advanceMarkDelete(to: Position(p))
                for q in 0..<p { model.insert(q) }
            case 1:
                let a = UInt64.random(in: 0..<universe, using: &rng)
                let b = UInt64.random(in: a...min(a + 8, universe), using: &rng)
                set.insert(a..<b)
                for q in a..<b { model.insert(q) }
            default:
                let p = UInt64.random(in: 0..<universe, using: &rng)
                set.insert(Position(p))
                model.insert(p)
            }
            checkAgainstModel(set, model, universe: universe)
        }
    }

    @Test func codecRoundTripsAndRejectsMalformedBytes() {
        var set = AckRangeSet(markDelete: Position(10))
        set.insert(Position(12))
        set.insert(Position(15))
        set.insert(Position(16))
        let bytes = set.encoded()
        #expect(bytes.count == 12 + 2 * 16)
        #expect(AckRangeSet(encoded: bytes) == set)
        #expect(AckRangeSet(encoded: Array(bytes.dropLast())) == nil)
        #expect(AckRangeSet(encoded: [1, 2, 3]) == nil)
        #expect(AckRangeSet(encoded: AckRangeSet(markDelete: Position(7)).encoded()) == AckRangeSet(markDelete: Position(7)))
    }

    @Test func initNormalisesUnsortedOverlappingRanges() {
        let set = AckRangeSet(markDelete: Position(3), ranges: [9..<12, 1..<4, 5..<7, 6..<9])
        #expect(set.markDelete == Position(4))
        #expect(set.ranges == [5..<12])
    }
}
