/// The entries of an `InMemoryTopic`, each with a reference count, freed one by one.
///
/// Positions are split into pages of `pageSize` slots, kept in a dictionary by page number: an entry is
/// found in O(1) (page lookup + index), an entry whose count reaches zero releases its payload and value
/// at once, and a page whose every slot is freed (and that will get no more appends) is dropped (handed to
/// `SparsePagePool` for reuse, so a steady flow allocates no pages). Memory is
/// therefore proportional to the entries still referenced — plus at most one page of slots each — however
/// old the oldest of them is; a prefix-only scheme would keep everything after the oldest live entry.
///
/// Not thread-safe: `InMemoryTopic` keeps it behind its mutex.
struct SparseEntries {
    /// One stored entry. `references == 0` marks a freed (or never written) slot.
    struct Slot {
        var payload: [UInt8] = []
        var value: (any Sendable)?
        var references: Int32 = 0
        /// Bytes counted for statistics: the payload plus what the appender declared for the value.
        var bytes: UInt32 = 0
    }

    /// A page of consecutive slots (a class so the dictionary entry is updated in place).
    final class Page {
        var slots: ContiguousArray<Slot>
        /// Slots with `references > 0`.
        var live = 0

        init() {
            self.slots = ContiguousArray(repeating: Slot(), count: SparseEntries.pageSize)
        }
    }

    static let pageShift: UInt64 = 6
    static let pageSize = 1 << Int(pageShift)
    static let pageMask = UInt64(pageSize - 1)

    private(set) var pages: [UInt64: Page] = [:]
    /// The position the next append gets.
    private(set) var nextPosition: UInt64 = 0
    /// Every position below this was trimmed (prefix reclamation, `trim(before:)`).
    private(set) var trimmedBelow: UInt64 = 0
    /// No page below this number holds a live entry (advanced lazily; keeps range reads and trims from
    /// walking freed pages again).
    private var lowestPage: UInt64 = 0
    /// Entries below this no longer hold the appender's reference (`releaseAppenderReferences`).
    private(set) var appenderReleasedBelow: UInt64 = 0
    /// Live entries and their bytes.
    private(set) var liveEntries = 0
    private(set) var liveBytes = 0
    /// Releases (and retains) that found no live entry: a caller released more often than it retained.
    private(set) var overReleases = 0

    /// The page being appended to, cached so an append batch looks up the dictionary once per page.
    private var tail: (number: UInt64, page: Page)?

    private func pageNumber(_ position: UInt64) -> UInt64 { position >> Self.pageShift }

    /// True once every slot of page `number` has been appended (so it will get no more entries).
    private func isComplete(_ number: UInt64) -> Bool {
        (number + 1) << Self.pageShift <= self.nextPosition
    }

    /// Appends one entry holding `references` references (at least one) and returns its position.
    mutating func append(payload: [UInt8], value: (any Sendable)?, references: Int32, valueBytes: Int) -> UInt64 {
        precondition(references > 0, "an entry starts with at least one reference")
        let position = self.nextPosition
        let number = self.pageNumber(position)
        let page: Page
        if let tail = self.tail, tail.number == number {
            page = tail.page
        } else if let existing = self.pages[number] {
            page = existing
            self.tail = (number, existing)
        } else {
            page = SparsePagePool.shared.take()
            self.pages[number] = page
            self.tail = (number, page)
        }
        let bytes = UInt32(clamping: payload.count + valueBytes)
        page.slots[Int(position & Self.pageMask)] = Slot(payload: payload, value: value, references: references,
                                                          bytes: bytes)
        page.live += 1
        self.liveEntries += 1
        self.liveBytes += Int(bytes)
        self.nextPosition = position + 1
        return position
    }

    /// Calls `body` with the live entry at each of `positions` that has one, in the order given (one
    /// dictionary lookup per run of positions on one page).
    func forEachLive(at positions: [Position], _ body: (Position, Slot) -> Void) {
        var cached: (number: UInt64, page: Page?)?
        for position in positions {
            guard let (page, index) = self.locate(position.raw, cached: &cached) else { continue }
            let slot = page.slots[index]
            if slot.references > 0 { body(position, slot) }
        }
    }

    /// Calls `body` with each live entry from `from` on, in order, until it returns false or the end.
    func forEachLive(from: UInt64, _ body: (UInt64, Slot) -> Bool) {
        var position = max(from, self.trimmedBelow, self.lowestPage << Self.pageShift)
        while position < self.nextPosition {
            let number = self.pageNumber(position)
            guard let page = self.pages[number] else {
                position = (number + 1) << Self.pageShift   // a freed page: skip it whole
                continue
            }
            let pageEnd = min((number + 1) << Self.pageShift, self.nextPosition)
            while position < pageEnd {
                let slot = page.slots[Int(position & Self.pageMask)]
                if slot.references > 0, !body(position, slot) { return }
                position += 1
            }
        }
    }

    /// Adds one reference to each live entry at `positions`; returns how many were not live (not counted,
    /// and added to `overReleases`: a reference taken on a freed entry means one was released too early).
    mutating func retain(_ positions: [Position]) -> Int {
        var missing = 0
        var cached: (number: UInt64, page: Page?)?
        for position in positions {
            guard let (page, index) = self.locate(position.raw, cached: &cached), page.slots[index].references > 0 else {
                missing += 1
                continue
            }
            page.slots[index].references += 1
        }
        self.overReleases += missing
        return missing
    }

    /// Drops one reference from each entry at `positions`; an entry whose count reaches zero is freed,
    /// and with it a page left empty. Returns how many positions held no live entry (over-releases).
    mutating func release(_ positions: [Position]) -> Int {
        var missing = 0
        var emptiedPage = false
        var cached: (number: UInt64, page: Page?)?
        for position in positions {
            guard let (page, index) = self.locate(position.raw, cached: &cached), page.slots[index].references > 0 else {
                missing += 1
                continue
            }
            page.slots[index].references -= 1
            guard page.slots[index].references == 0 else { continue }
            self.liveEntries -= 1
            self.liveBytes -= Int(page.slots[index].bytes)
            page.slots[index] = Slot()
            page.live -= 1
            if page.live == 0 { emptiedPage = true }
        }
        if emptiedPage { self.dropEmptyPages(around: positions) }
        self.overReleases += missing
        return missing
    }

    /// Ends the appender's reference — the one every entry is appended with — on each entry below
    /// `position` that still holds it. Positions only move forward, so each entry loses it exactly once
    /// however often (or out of order) this is called.
    mutating func releaseAppenderReferences(below position: UInt64) {
        let end = min(position, self.nextPosition)
        let start = max(self.appenderReleasedBelow, self.trimmedBelow)
        guard end > start else {
            self.appenderReleasedBelow = max(self.appenderReleasedBelow, end)
            return
        }
        self.appenderReleasedBelow = end
        var emptiedPage = false
        var cached: (number: UInt64, page: Page?)?
        for p in start..<end {
            guard let (page, index) = self.locate(p, cached: &cached), page.slots[index].references > 0 else {
                continue   // trimmed already
            }
            page.slots[index].references -= 1
            guard page.slots[index].references == 0 else { continue }
            self.liveEntries -= 1
            self.liveBytes -= Int(page.slots[index].bytes)
            page.slots[index] = Slot()
            page.live -= 1
            if page.live == 0 { emptiedPage = true }
        }
        guard emptiedPage else { return }
        var number = self.pageNumber(start)
        while number <= self.pageNumber(end - 1) {
            self.dropIfEmpty(number)
            number += 1
        }
    }

    /// The page and slot index of `position`, nil when its page is gone or it is outside the topic.
    /// `cached` keeps the last page looked up (one dictionary lookup per run of one page).
    private func locate(_ position: UInt64, cached: inout (number: UInt64, page: Page?)?) -> (Page, Int)? {
        guard position >= self.trimmedBelow, position < self.nextPosition else { return nil }
        let number = self.pageNumber(position)
        if cached?.number != number { cached = (number, self.pages[number]) }
        guard let page = cached?.page else { return nil }
        return (page, Int(position & Self.pageMask))
    }

    /// Removes the complete pages among those of `positions` that hold no live entry.
    private mutating func dropEmptyPages(around positions: [Position]) {
        var last: UInt64?
        for position in positions {
            let number = self.pageNumber(position.raw)
            guard number != last else { continue }
            last = number
            self.dropIfEmpty(number)
        }
    }

    private mutating func dropIfEmpty(_ number: UInt64) {
        guard let page = self.pages[number], page.live == 0, self.isComplete(number) else { return }
        self.pages[number] = nil
        if self.tail?.number == number { self.tail = nil }
        self.keepSpare(page)
        self.advanceLowestPage()
    }

    /// Hands an emptied page (all of whose slots are cleared) to the shared pool for reuse.
    private func keepSpare(_ page: Page) {
        SparsePagePool.shared.give(page)
    }

    /// Moves `lowestPage` over pages that are gone (amortized O(1): it only moves forward).
    private mutating func advanceLowestPage() {
        let end = self.pageNumber(self.nextPosition)
        while self.lowestPage < end, self.pages[self.lowestPage] == nil { self.lowestPage += 1 }
    }

    /// The lowest position holding a live entry (`nextPosition` when none).
    var firstLivePosition: UInt64 {
        var found = self.nextPosition
        self.forEachLive(from: 0) { position, _ in
            found = position
            return false
        }
        return found
    }

    /// Frees every entry below `position`, whatever its reference count (prefix reclamation).
    mutating func trim(before position: UInt64) {
        let end = min(position, self.nextPosition)
        guard end > self.trimmedBelow else { return }
        var number = max(self.lowestPage, self.pageNumber(self.trimmedBelow))
        let lastNumber = self.pageNumber(end)   // the page holding `end` (kept, cleared below `end`)
        while number <= lastNumber, number << Self.pageShift < end {
            if let page = self.pages[number] {
                let first = number << Self.pageShift
                let upper = min(end, (number + 1) << Self.pageShift)
                for p in max(first, self.trimmedBelow)..<upper {
                    let index = Int(p & Self.pageMask)
                    guard page.slots[index].references > 0 else { continue }
                    self.liveEntries -= 1
                    self.liveBytes -= Int(page.slots[index].bytes)
                    page.slots[index] = Slot()
                    page.live -= 1
                }
                if page.live == 0, self.isComplete(number) {
                    self.pages[number] = nil
                    if self.tail?.number == number { self.tail = nil }
                    self.keepSpare(page)
                }
            }
            number += 1
        }
        self.trimmedBelow = end
        self.advanceLowestPage()
    }

    /// Frees everything (the topic closed).
    mutating func removeAll() {
        self.pages = [:]
        self.tail = nil
        self.liveEntries = 0
        self.liveBytes = 0
        self.trimmedBelow = self.nextPosition
        self.lowestPage = self.pageNumber(self.nextPosition)
    }
}
