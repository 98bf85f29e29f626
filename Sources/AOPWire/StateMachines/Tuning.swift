/// Negotiated connection limits (connection.tune / tune-ok).
public struct Tuning: Hashable, Sendable {
    /// Highest usable channel number; 0 means no limit (treated as 65535).
    public var channelMax: UInt16
    /// Largest frame in bytes including header and end octet.
    public var frameMax: UInt32
    /// Heartbeat interval in seconds; 0 disables heartbeats.
    public var heartbeat: UInt16

    public init(channelMax: UInt16, frameMax: UInt32, heartbeat: UInt16) {
        self.channelMax = channelMax
        self.frameMax = frameMax
        self.heartbeat = heartbeat
    }

    /// The smallest frame-max a peer may ask for (the spec's frame-min-size).
    public static let minimumFrameMax: UInt32 = 4096

    /// Negotiates one value as RabbitMQ does: the lower of the two, where 0 means "no limit".
    static func negotiate<T: FixedWidthInteger>(server: T, client: T) -> T {
        if server == 0 { return client }
        if client == 0 { return server }
        return min(server, client)
    }
}
