/// What an `InMemoryTopic` holds right now (`InMemoryTopic.statistics`).
public struct InMemoryTopicStatistics: Sendable, Hashable {
    /// Entries not yet freed (reference count above zero, not trimmed).
    public var liveEntries: Int
    /// Their bytes: payloads plus the sizes declared for attached values (message bodies).
    public var liveBytes: Int
    /// Pages of slots allocated (each holds `positionsPerPage` positions).
    public var pages: Int
    /// Releases or retains that found no entry: always 0 unless a caller released an entry more often than
    /// it held it (which could free a message another queue still needs).
    public var overReleases: Int

    /// Positions per page: a live entry keeps at most this many slots (of a few dozen bytes) allocated.
    public static var positionsPerPage: Int { SparseEntries.pageSize }

    public init(liveEntries: Int, liveBytes: Int, pages: Int, overReleases: Int) {
        self.liveEntries = liveEntries
        self.liveBytes = liveBytes
        self.pages = pages
        self.overReleases = overReleases
    }
}
