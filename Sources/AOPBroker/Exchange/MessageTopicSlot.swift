import AOPStorage

/// One message topic of an exchange with its replicator cursor (the durable mark of how far routing
/// has been applied to queue indexes).
struct MessageTopicSlot: Sendable {
    var id: UInt32
    var topic: any Topic
    var replicator: any Cursor

    static let replicatorName = "replicator"
}
