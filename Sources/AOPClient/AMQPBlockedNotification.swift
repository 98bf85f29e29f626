/// `connection.blocked` / `connection.unblocked` from the server (a resource alarm stops publishers).
public enum AMQPBlockedNotification: Sendable, Hashable {
    case blocked(reason: String)
    case unblocked
}
