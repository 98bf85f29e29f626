/// An in-memory topic entry with the value its appender attached (`InMemoryTopic.appendNow(_:values:)`).
public struct TopicValueEntry: Sendable {
    public var position: Position
    public var payload: [UInt8]
    /// The attached value; nil when the entry was appended as a payload only.
    public var value: (any Sendable)?

    public init(position: Position, payload: [UInt8], value: (any Sendable)?) {
        self.position = position
        self.payload = payload
        self.value = value
    }
}
