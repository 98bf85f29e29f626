import AOPClient
import Testing

@Suite struct ConfigurationTests {
    @Test func parsesAFullURI() throws {
        let c = try AMQPClientConfiguration(uri: "amqp://alice:s%40cret@10.0.0.5:5673/%2Fprod?heartbeat=5&frame_max=8192&channel_max=16&connection_name=perf")
        #expect(c.user == "alice")
        #expect(c.password == "s@cret")
        #expect(c.host == "10.0.0.5")
        #expect(c.port == 5673)
        #expect(c.virtualHost == "/prod")
        #expect(c.heartbeat == 5)
        #expect(c.frameMax == 8192)
        #expect(c.channelMax == 16)
        #expect(c.connectionName == "perf")
    }

    @Test func defaultsAndEscapedRootVirtualHost() throws {
        let c = try AMQPClientConfiguration(uri: "amqp://guest:guest@127.0.0.1:5672/%2F")
        #expect(c.virtualHost == "/")
        let bare = try AMQPClientConfiguration(uri: "amqp://")
        #expect(bare.host == "127.0.0.1" && bare.port == 5672 && bare.user == "guest" && bare.virtualHost == "/")
        let v6 = try AMQPClientConfiguration(uri: "amqp://[::1]:5680")
        #expect(v6.host == "[::1]" && v6.port == 5680)
    }

    @Test func rejectsBadURIs() {
        #expect(throws: AMQPClientError.self) { try AMQPClientConfiguration(uri: "http://x") }
        #expect(throws: AMQPClientError.self) { try AMQPClientConfiguration(uri: "amqp://host:99999") }
        #expect(throws: AMQPClientError.self) { try AMQPClientConfiguration(uri: "amqp://host/%zz") }
    }
}
