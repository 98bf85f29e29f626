import AOPIO
import Synchronization

/// Emptied `SparseEntries` pages shared by every in-memory topic of the process, so a topic whose entries
/// are freed about as fast as they are appended allocates no page in its steady state, whatever its batch
/// size, while idle topics keep none. At most `limit` pages (about 3 KiB each) are kept.
///
/// `@unchecked Sendable`: `pages` is read and written only inside `lock`. A page in the pool belongs to no
/// topic and has every slot cleared; a page taken out belongs to the one topic that took it and is used
/// only under that topic's mutex, so no page is ever reachable from two threads without a lock between.
final class SparsePagePool: @unchecked Sendable {
    static let shared = SparsePagePool(limit: 256)

    private let lock = Mutex(())
    private var pages: [SparseEntries.Page] = []
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
        self.pages.reserveCapacity(limit)
    }

    /// A cleared page from the pool, or a new one.
    func take() -> SparseEntries.Page {
        let reused = self.lock.withLock(orderedFor: self) { _ -> SparseEntries.Page? in self.pages.popLast() }
        return reused ?? SparseEntries.Page()
    }

    /// Returns a page whose every slot is cleared (`references == 0`, no payload, no value); dropped when
    /// the pool is full.
    func give(_ page: SparseEntries.Page) {
        self.lock.withLock(orderedFor: self) { _ in
            if self.pages.count < self.limit { self.pages.append(page) }
        }
    }
}
