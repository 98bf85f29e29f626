/// Credentials from a connection.start-ok response.
public struct SASLCredentials: Hashable, Sendable {
    public var username: String
    public var password: String
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// Parsers for the SASL mechanisms RabbitMQ accepts by default: PLAIN and AMQPLAIN.
public enum SASL {
    public static let supportedMechanisms = ["PLAIN", "AMQPLAIN"]

    /// Parses a start-ok response for `mechanism`; nil when the mechanism is unknown or the response malformed.
    public static func parse(mechanism: String, response: [UInt8]) -> SASLCredentials? {
        switch mechanism {
        case "PLAIN": return self.parsePlain(response)
        case "AMQPLAIN": return self.parseAMQPlain(response)
        default: return nil
        }
    }

    /// PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`.
    static func parsePlain(_ response: [UInt8]) -> SASLCredentials? {
        let parts = response.split(separator: 0, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        return SASLCredentials(
            username: String(decoding: parts[1], as: UTF8.self),
            password: String(decoding: parts[2], as: UTF8.self)
        )
    }

    /// AMQPLAIN: a field table *without* its length prefix holding LOGIN and PASSWORD.
    static func parseAMQPlain(_ response: [UInt8]) -> SASLCredentials? {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(response.count))
        buffer.writeBytes(response)
        guard let table = try? buffer.readFieldTable(),
              let login = table["LOGIN"]?.stringValue,
              let password = table["PASSWORD"]?.stringValue
        else { return nil }
        return SASLCredentials(username: login, password: password)
    }
}
