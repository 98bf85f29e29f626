public import AOPWire

/// The per-message TTL from the `expiration` property (RabbitMQ's `rabbit_basic:parse_expiration`).
///
/// The text is read as Erlang's `string:to_integer`: an optional sign then ASCII digits, nothing
/// else; the value must be 0 … 315,360,000,000 ms. An invalid value fails the publish with 406
/// PRECONDITION_FAILED (a channel error) and RabbitMQ's text:
/// `invalid expiration 'abc': no_integer`, `invalid expiration '5s': {leftover_string,"s"}`,
/// `invalid expiration '-1': {value_negative,-1}`, `… {value_too_large,N}`.
public struct MessageExpiration: Sendable, Hashable {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public init(parsing text: String) throws(AMQPError) {
        func fail(_ reason: String) -> AMQPError { .preconditionFailed("invalid expiration '\(text)': \(reason)") }
        let bytes = Array(text.utf8)
        var i = 0
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        let digitsStart = i
        while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
        guard i > digitsStart else { throw fail("no_integer") }
        if i < bytes.count {
            throw fail("{leftover_string,\(ErlangFormat.charList(codes: bytes[i...].map(UInt32.init)))}")
        }
        var digits = bytes[digitsStart..<i].drop { $0 == UInt8(ascii: "0") }
        if digits.isEmpty { digits = [UInt8(ascii: "0")][...] }
        let magnitude = String(decoding: digits, as: UTF8.self)
        if negative && magnitude != "0" { throw fail("{value_negative,-\(magnitude)}") }
        guard digits.count <= 12, let value = Int64(magnitude), value <= QueueArgumentChecks.maxExpiry else {
            throw fail("{value_too_large,\(magnitude)}")
        }
        self.milliseconds = value
    }

    /// The expiration of a message's properties; nil when it has none.
    public static func of(_ properties: BasicProperties) throws(AMQPError) -> MessageExpiration? {
        guard let text = properties.expiration else { return nil }
        return try MessageExpiration(parsing: text)
    }
}
