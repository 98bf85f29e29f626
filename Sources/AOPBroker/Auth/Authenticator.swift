public import AOPWire

/// Checks credentials and vhost access against the configured users, as RabbitMQ's internal backend does.
public struct Authenticator: Sendable {
    let users: [String: BrokerConfiguration.User]
    let loopbackUsers: Set<String>

    public init(configuration: BrokerConfiguration) {
        var users: [String: BrokerConfiguration.User] = [:]
        for user in configuration.users { users[user.name] = user }
        self.users = users
        self.loopbackUsers = Set(configuration.loopbackUsers)
    }

    /// Returns nil when the credentials are good, else the connection.close error (403 ACCESS_REFUSED).
    public func authenticate(_ credentials: SASLCredentials, mechanism: String, fromLoopback: Bool) -> AMQPError? {
        guard let user = self.users[credentials.username], user.password == credentials.password else {
            return AMQPError(
                .connectionAccessRefused,
                "Login was refused using authentication mechanism \(mechanism). For details see the broker logfile."
            )
        }
        if self.loopbackUsers.contains(user.name) && !fromLoopback {
            return AMQPError(
                .connectionAccessRefused,
                "user '\(user.name)' can only connect via localhost"
            )
        }
        return nil
    }

    /// Returns nil when `username` may open `virtualHost`, else 530 NOT_ALLOWED.
    public func authorize(username: String, virtualHost: String, exists: Bool) -> AMQPError? {
        guard exists else {
            return AMQPError(.notAllowed, "vhost \(virtualHost) not found", classID: 10, methodID: 40)
        }
        guard let user = self.users[username] else {
            return AMQPError(.notAllowed, "access to vhost '\(virtualHost)' refused for user '\(username)'",
                             classID: 10, methodID: 40)
        }
        if !user.virtualHosts.isEmpty && !user.virtualHosts.contains(virtualHost) {
            return AMQPError(.notAllowed, "access to vhost '\(virtualHost)' refused for user '\(username)'",
                             classID: 10, methodID: 40)
        }
        return nil
    }
}
