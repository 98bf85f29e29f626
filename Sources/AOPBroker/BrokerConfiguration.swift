/// Everything a broker needs to know at start: users, vhosts and protocol limits. `aop-server` builds
/// one from its config file and flags; embedders build one in code.
public struct BrokerConfiguration: Sendable {
    public struct User: Sendable, Hashable {
        public var name: String
        public var password: String
        public var tags: [String]
        /// Vhosts this user may open; empty means every vhost.
        public var virtualHosts: [String]
        public init(name: String, password: String, tags: [String] = [], virtualHosts: [String] = []) {
            self.name = name
            self.password = password
            self.tags = tags
            self.virtualHosts = virtualHosts
        }
    }

    public var users: [User] = [User(name: "guest", password: "guest", tags: ["administrator"])]
    public var virtualHosts: [String] = ["/"]
    /// Users that may connect only from a loopback address (RabbitMQ's `loopback_users`).
    public var loopbackUsers: [String] = ["guest"]
    /// Offered in connection.tune (RabbitMQ's defaults: 2047 channels, 128 KiB frames, 60 s heartbeat).
    public var channelMax: UInt16 = 2047
    public var frameMax: UInt32 = 131_072
    public var heartbeat: UInt16 = 60
    /// Time a client has from TCP accept to connection.open-ok (RabbitMQ's `handshake_timeout`).
    public var handshakeTimeout: Duration = .seconds(10)
    /// Largest message body accepted (RabbitMQ's `max_message_size`, 128 MiB).
    public var maxMessageSize: UInt64 = 134_217_728
    /// Outbound bytes buffered per connection before deliveries to it pause.
    public var outboundHighWatermark: Int = 1 << 20
    /// Deliveries per consumer handed to a connection but not yet written to its socket; with the
    /// outbound watermark this bounds what a client that stops reading can make the broker hold.
    public var transitWindow: UInt32 = 2000
    /// Reported to clients in server-properties.
    public var clusterName: String = "aop"

    public init() {}
}
