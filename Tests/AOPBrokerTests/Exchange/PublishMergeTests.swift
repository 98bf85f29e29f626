@testable import AOPBroker
import Testing

@Suite struct PublishMergeTests {
    @Test func batchesAreConcatenatedInOrderWithTheirRanges() {
        let merge = PublishMerge([["a", "b"], [], ["c"], ["d", "e", "f"]])
        #expect(merge.items == ["a", "b", "c", "d", "e", "f"])
        #expect(merge.ranges == [0..<2, 2..<2, 2..<3, 3..<6])
    }

    @Test func splitGivesEachBatchItsOwnResultsInItsOwnOrder() {
        let batches = [[10, 11, 12], [20], [], [30, 31]]
        let merge = PublishMerge(batches)
        // A result per merged item that names the item: each batch must get back exactly its items.
        let results = merge.items.map { "r\($0)" }
        #expect(merge.split(results) == [["r10", "r11", "r12"], ["r20"], [], ["r30", "r31"]])
    }

    @Test func splitOfOutcomesKeepsEachCallersMixOfOutcomes() {
        let merge = PublishMerge([[0, 1], [2, 3, 4]])
        let outcomes: [PublishOutcome] = [.routed, .unroutable, .rejected, .routed, .noSpace]
        #expect(merge.split(outcomes) == [[.routed, .unroutable], [.rejected, .routed, .noSpace]])
    }

    @Test func randomBatchesRoundTrip() {
        // Batch counts 0...12 and sizes 0...5 in many combinations (a fixed pattern, reproducible).
        for run in 0..<200 {
            let batches = (0..<(run % 13)).map { b in
                (0..<((run * 7 + b * 3) % 6)).map { "\(b).\($0)" }
            }
            let merge = PublishMerge(batches)
            #expect(merge.items == batches.flatMap { $0 })
            #expect(merge.ranges.count == batches.count)
            #expect(merge.split(merge.items) == batches)
        }
    }

    @Test func emptyMergeHasNoItemsAndNoRanges() {
        let merge = PublishMerge([[Int]]())
        #expect(merge.items.isEmpty)
        #expect(merge.ranges.isEmpty)
        #expect(merge.split([Int]()).isEmpty)
    }
}
