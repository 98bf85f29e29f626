@testable import AOPStorage
import Testing

@Suite struct TailCacheTests {
    @Test func keepsTheLastCapacityBytesOfAContiguousRun() {
        var cache = TailCache(capacity: 10)
        cache.append([0, 1, 2, 3], segment: 5, at: 100)
        cache.append([4, 5, 6, 7, 8, 9, 10, 11], segment: 5, at: 104)
        #expect(cache.start == 102)
        #expect(cache.bytes == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
        #expect(cache.read(segment: 5, offset: 104, needed: 2, count: 100) == [4, 5, 6, 7, 8, 9, 10, 11])
        #expect(cache.read(segment: 5, offset: 110, needed: 3, count: 3) == nil)  // past the end
        #expect(cache.read(segment: 5, offset: 101, needed: 1, count: 1) == nil)  // dropped
        #expect(cache.read(segment: 6, offset: 104, needed: 1, count: 1) == nil)  // other segment
    }

    @Test func aGapOrNewSegmentStartsANewRunAndHugeWritesKeepTheirTail() {
        var cache = TailCache(capacity: 4)
        cache.append([1, 2], segment: 0, at: 24)
        cache.append([9], segment: 0, at: 40)
        #expect(cache.start == 40)
        #expect(cache.bytes == [9])
        cache.append([1, 2, 3, 4, 5, 6], segment: 7, at: 24)
        #expect(cache.start == 26)
        #expect(cache.bytes == [3, 4, 5, 6])
        var disabled = TailCache(capacity: 0)
        disabled.append([1], segment: 0, at: 24)
        #expect(disabled.read(segment: 0, offset: 24, needed: 1, count: 1) == nil)
    }
}
