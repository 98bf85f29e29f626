/// Where a content message's parts lie in the scanned buffer.
struct ContentSpan: Equatable {
    var channel: UInt16
    var methodID: UInt16
    /// The method payload (class and method ids included).
    var method: Range<Int>
    /// The header payload (class id, weight, body size, properties).
    var header: Range<Int>
    /// The body: one range when it came in one body frame (or is empty), several otherwise.
    var body: BodyLocation
}
