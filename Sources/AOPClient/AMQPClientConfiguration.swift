/// Where and how an ``AMQPClientConnection`` connects: address, credentials, virtual host and the
/// limits it proposes during the handshake.
public struct AMQPClientConfiguration: Sendable, Hashable {
    /// A numeric IPv4/IPv6 literal, or "localhost" (127.0.0.1).
    public var host: String
    public var port: UInt16
    public var user: String
    public var password: String
    public var virtualHost: String
    /// Heartbeat interval in seconds proposed to the server (0 disables heartbeats).
    public var heartbeat: UInt16
    /// Largest frame proposed to the server (0 = no limit of our own; the server's value is used).
    public var frameMax: UInt32
    /// Highest channel number proposed to the server (0 = no limit of our own).
    public var channelMax: UInt16
    /// Sent as the `connection_name` client property (shown by management tools).
    public var connectionName: String?

    /// - Parameters:
    ///   - host: numeric address or "localhost".
    ///   - port: 5672 by default.
    ///   - user: "guest" by default.
    ///   - password: "guest" by default.
    ///   - virtualHost: "/" by default.
    ///   - heartbeat: seconds; 60 by default (the server may lower it).
    ///   - frameMax: 131072 by default (RabbitMQ's default).
    ///   - channelMax: 2047 by default.
    ///   - connectionName: optional name shown by the server.
    public init(host: String = "127.0.0.1", port: UInt16 = 5672, user: String = "guest", password: String = "guest",
                virtualHost: String = "/", heartbeat: UInt16 = 60, frameMax: UInt32 = 131_072,
                channelMax: UInt16 = 2047, connectionName: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
        self.heartbeat = heartbeat
        self.frameMax = frameMax
        self.channelMax = channelMax
        self.connectionName = connectionName
    }
}
