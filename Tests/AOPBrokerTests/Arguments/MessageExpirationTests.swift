import AOPWire
import Testing
@testable import AOPBroker

@Suite struct MessageExpirationTests {
    @Test(arguments: [("0", 0), ("60000", 60_000), ("+5", 5), ("007", 7), ("-0", 0), ("315360000000", 315_360_000_000)])
    func valid(text: String, ms: Int64) throws {
        #expect(try MessageExpiration(parsing: text).milliseconds == ms)
    }

    @Test(arguments: [
        ("abc", "no_integer"), ("", "no_integer"), ("-", "no_integer"), (" 5", "no_integer"),
        ("5s", "{leftover_string,\"s\"}"), ("1.5", "{leftover_string,\".5\"}"),
        ("-1", "{value_negative,-1}"), ("315360000001", "{value_too_large,315360000001}"),
        ("99999999999999999999999", "{value_too_large,99999999999999999999999}"),
    ])
    func invalid(text: String, reason: String) {
        #expect(throws: AMQPError.preconditionFailed("invalid expiration '\(text)': \(reason)")) {
            try MessageExpiration(parsing: text)
        }
    }

    @Test func fromProperties() throws {
        #expect(try MessageExpiration.of(BasicProperties()) == nil)
        #expect(try MessageExpiration.of(BasicProperties(expiration: "10")) == MessageExpiration(milliseconds: 10))
    }
}
