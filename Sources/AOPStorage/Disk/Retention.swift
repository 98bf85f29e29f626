/// How long consumed segments are kept (Pulsar's retention policy). A segment every cursor has passed
/// is deleted when its age exceeds `time` or the topic's size exceeds `size`; a nil limit does not hold
/// data back, so with both nil consumed segments are deleted at once. `.infinite` keeps everything.
public struct Retention: Sendable, Hashable {
    public var time: Duration?
    public var size: UInt64?
    /// Never delete anything (Pulsar's -1/-1).
    public var keepsEverything: Bool

    public init(time: Duration? = nil, size: UInt64? = nil) {
        self.time = time
        self.size = size
        self.keepsEverything = false
    }

    /// No extra retention: consumed segments are deleted on trim.
    public static let none = Retention()
    /// Keep every segment forever.
    public static let infinite: Retention = {
        var r = Retention()
        r.keepsEverything = true
        return r
    }()

    /// Whether a consumed segment may be deleted.
    /// - Parameters:
    ///   - ageMilliseconds: time since the segment was sealed.
    ///   - retainedBytes: the topic's size counting this segment and every later one still kept.
    func allowsDeletion(ageMilliseconds: UInt64, retainedBytes: UInt64) -> Bool {
        if self.keepsEverything { return false }
        if self.time == nil, self.size == nil { return true }
        if let time = self.time {
            let limit = time.components.seconds * 1000 + time.components.attoseconds / 1_000_000_000_000_000
            if Int64(clamping: ageMilliseconds) > limit { return true }
        }
        if let size = self.size, retainedBytes > size { return true }
        return false
    }
}
