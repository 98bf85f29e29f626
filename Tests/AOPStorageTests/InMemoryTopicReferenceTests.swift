import AOPStorage
import Testing

/// Per-entry reference counts of `InMemoryTopic`: entries are freed one by one, not only as a prefix.
@Suite struct InMemoryTopicReferenceTests {
    final class Box: Sendable {
        let n: Int
        init(_ n: Int) { self.n = n }
    }

    @Test func releasedEntriesAreFreedWhileAnOlderOneIsStillHeld() throws {
        let topic = InMemoryTopic(name: "t")
        var boxes: [Box] = (0..<1000).map(Box.init)
        weak let first = boxes[0]
        weak let middle = boxes[500]
        weak let last = boxes[999]
        let positions = try topic.appendNow(Array(repeating: [], count: 1000), values: boxes, valueBytes: { _ in 10 })
        boxes.removeAll()
        #expect(topic.statistics.liveEntries == 1000)
        #expect(topic.statistics.liveBytes == 10_000)
        // Position 0 stays referenced; every later entry is released.
        #expect(topic.release(Array(positions.dropFirst())) == 0)
        #expect(first != nil)
        #expect(middle == nil)
        #expect(last == nil)
        let stats = topic.statistics
        #expect(stats.liveEntries == 1)
        #expect(stats.liveBytes == 10)
        #expect(stats.overReleases == 0)
        // Only the page holding position 0 and the page being appended to remain.
        #expect(stats.pages <= 2)
        #expect(try topic.readValuesNow(from: .zero, limit: 10).map(\.position) == [Position(0)])
        #expect(try topic.readValuesNow(positions: [Position(999), Position(0), Position(1)]).map(\.position)
            == [Position(0)])
        #expect(topic.startPosition == Position(0))
        #expect(topic.release([Position(0)]) == 0)
        #expect(first == nil)
        #expect(topic.entryCount == 0)
        #expect(topic.statistics.liveBytes == 0)
    }

    @Test func anEntryLivesUntilItsLastReferenceIsReleased() throws {
        let topic = InMemoryTopic(name: "t")
        let p = try topic.appendNow([[1, 2, 3]])
        #expect(topic.retain(p + p) == 0)   // three references now
        #expect(topic.release(p) == 0)
        #expect(topic.release(p) == 0)
        #expect(try topic.readNow(positions: p).map(\.payload) == [[1, 2, 3]])
        #expect(topic.release(p) == 0)
        #expect(try topic.readNow(positions: p).isEmpty)
        // A fourth release finds nothing: counted, never negative, nothing else touched.
        #expect(topic.release(p) == 1)
        #expect(topic.retain(p) == 1)
        #expect(topic.statistics.overReleases == 2)
        #expect(topic.statistics.liveEntries == 0)
    }

    /// The reference an entry is appended with (a message topic's replicator) ends exactly once, whatever
    /// the order or repetition of the calls that end it.
    @Test func appenderReferencesEndOnceEach() throws {
        let topic = InMemoryTopic(name: "t")
        let p = try topic.appendNow(Array(repeating: [1], count: 10))
        #expect(topic.retain([p[3], p[4]]) == 0)   // two queues' worth: 3 and 4 are held elsewhere
        topic.releaseAppenderReferences(below: Position(5))
        #expect(try topic.readNow(from: .zero, limit: 20).map(\.position.raw) == [3, 4, 5, 6, 7, 8, 9])
        topic.releaseAppenderReferences(below: Position(5))
        topic.releaseAppenderReferences(below: Position(2))
        #expect(topic.entryCount == 7)
        topic.releaseAppenderReferences(below: Position(100))   // past the end: up to the end only
        #expect(topic.entryCount == 2)
        let later = try topic.appendNow([[2]])
        #expect(topic.entryCount == 3)   // appended after the call: still holds its reference
        #expect(topic.release([p[3], p[4]]) == 0)
        topic.releaseAppenderReferences(below: later[0].next)
        #expect(topic.entryCount == 0)
        #expect(topic.statistics.overReleases == 0)
        #expect(topic.statistics.pages <= 1)
    }

    @Test func memoryFollowsLiveEntriesNotTheirSpread() throws {
        let topic = InMemoryTopic(name: "t")
        var held: [Position] = []
        for round in 0..<100 {
            let positions = try topic.appendNow(Array(repeating: [0], count: 640))
            held.append(positions[0])
            _ = round
            #expect(topic.release(Array(positions.dropFirst())) == 0)
        }
        let stats = topic.statistics
        #expect(stats.liveEntries == 100)
        // One page per held entry (each round's first one), not one per 64 positions of the whole range.
        #expect(stats.pages == 100)
        #expect(try topic.readNow(from: .zero, limit: 1000).map(\.position) == held)
        #expect(try topic.readNow(from: held[50], limit: 3).map(\.position) == Array(held[50..<53]))
        #expect(topic.release(held) == 0)
        #expect(topic.statistics.pages <= 1)
        #expect(try topic.readNow(from: .zero, limit: 1000).isEmpty)
    }

    @Test func theTailPageSurvivesBeingEmptiedAndKeepsNumbering() throws {
        let topic = InMemoryTopic(name: "t")
        let a = try topic.appendNow([[1], [2], [3]])
        #expect(topic.release(a) == 0)
        let b = try topic.appendNow([[4]])
        #expect(b == [Position(3)])
        #expect(try topic.readNow(from: .zero, limit: 10) == [TopicEntry(position: Position(3), payload: [4])])
        #expect(topic.startPosition == Position(3))
    }

    @Test func trimFreesAPrefixWhateverItsCounts() async throws {
        let topic = InMemoryTopic(name: "t")
        let p = try topic.appendNow(Array(repeating: [7], count: 200))
        #expect(topic.retain(Array(p[0..<150])) == 0)
        try await topic.trim(before: Position(130))
        #expect(topic.entryCount == 70)
        #expect(try topic.readNow(from: .zero, limit: 1).map(\.position) == [Position(130)])
        // Released below the trim point: already gone, so counted as over-releases.
        #expect(topic.release([Position(10)]) == 1)
        #expect(topic.release(Array(p[130..<200])) == 0)   // 130..<150 had two references
        #expect(topic.entryCount == 20)
        #expect(topic.release(Array(p[130..<150])) == 0)
        #expect(topic.entryCount == 0)
    }

    /// Random appends, retains, releases and trims against a plain dictionary of counts.
    @Test(arguments: [1, 2, 3, 4, 5])
    func matchesAReferenceModel(seed: UInt64) async throws {
        var rng = SeededGenerator(seed: seed)
        let topic = InMemoryTopic(name: "t")
        var model: [UInt64: Int] = [:]
        var next: UInt64 = 0
        var trimmed: UInt64 = 0
        for _ in 0..<3000 {
            switch rng.next() % 10 {
            case 0..<4:
                let n = Int(rng.next() % 100) + 1
                let positions = try topic.appendNow(Array(repeating: [1], count: n))
                #expect(positions.first?.raw == next)
                for p in positions { model[p.raw] = 1 }
                next += UInt64(n)
            case 4..<5:
                let live = Array(model.keys)
                guard !live.isEmpty else { continue }
                let picks = (0..<Int(rng.next() % 20)).map { _ in live[Int(rng.next() % UInt64(live.count))] }
                #expect(topic.retain(picks.map(Position.init)) == 0)
                for p in picks { model[p, default: 0] += 1 }
            case 5..<9:
                // Release each live entry at most as often as it is held.
                var picks: [UInt64] = []
                var pending = model
                for _ in 0..<Int(rng.next() % 200) {
                    guard !pending.isEmpty else { break }
                    let keys = Array(pending.keys)
                    let p = keys[Int(rng.next() % UInt64(keys.count))]
                    picks.append(p)
                    pending[p]! -= 1
                    if pending[p] == 0 { pending[p] = nil }
                }
                #expect(topic.release(picks.map(Position.init)) == 0)
                model = pending
            default:
                guard rng.next() % 5 == 0, next > trimmed else { continue }
                let to = trimmed + rng.next() % (next - trimmed + 1)
                try await topic.trim(before: Position(to))
                for p in model.keys where p < to { model[p] = nil }
                trimmed = max(trimmed, to)
            }
            #expect(topic.entryCount == model.count)
        }
        let all = try topic.readNow(from: .zero, limit: Int.max)
        #expect(all.map(\.position.raw) == model.keys.sorted())
        let some = model.keys.sorted().filter { _ in rng.next() % 3 == 0 }
        #expect(try topic.readNow(positions: some.map(Position.init)).map(\.position.raw) == some)
        #expect(topic.statistics.overReleases == 0)
        // Pages: at most one per live entry plus the tail page.
        #expect(topic.statistics.pages <= model.count + 1)
    }
}
