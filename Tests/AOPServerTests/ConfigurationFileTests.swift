import AOPServer
import AOPBroker
import Logging
import Testing

@Suite struct ConfigurationFileTests {
    @Test func defaults() {
        let c = ServerConfiguration()
        #expect(c.bind == "127.0.0.1")
        #expect(c.port == 5672)
        #expect(c.broker.users.map(\.name) == ["guest"])
        #expect(c.broker.virtualHosts == ["/"])
    }

    @Test func everyKey() throws {
        var c = ServerConfiguration()
        try ConfigurationFile.apply("""
            # comment
            listeners.tcp.default = 0.0.0.0:5673
            data_dir = /var/lib/aop   # trailing comment
            log.level = debug
            heartbeat = 30
            frame_max = 65536
            channel_max = 100
            handshake_timeout = 2500
            max_message_size = 1048576
            vhosts = /, prod
            default_user = admin
            default_pass = s3cret
            loopback_users = none
            io_threads = 2
            cluster_name = test
            storage.segment_size = 1048576
            storage.retention.time_ms = 60000
            storage.retention.size = 1000000
            storage.preallocation = 0
            storage.commit_rounds_in_flight = 1
            storage.unsynced_batches = 1
            vm_memory_high_watermark.absolute = 2000000
            """, to: &c)
        #expect(c.segmentSize == 1_048_576)
        #expect(c.retentionTime == .milliseconds(60000))
        #expect(c.retentionSize == 1_000_000)
        #expect(!c.retainForever)
        #expect(c.preallocationBytes == 0)
        #expect(c.commitRoundsInFlight == 1)
        #expect(c.unsyncedBatches == 1)
        #expect(c.memoryHighWatermark == .absolute(2_000_000))
        #expect(c.bind == "0.0.0.0")
        #expect(c.port == 5673)
        #expect(c.dataDirectory == "/var/lib/aop")
        #expect(c.logLevel == .debug)
        #expect(c.broker.heartbeat == 30)
        #expect(c.broker.frameMax == 65536)
        #expect(c.broker.channelMax == 100)
        #expect(c.broker.handshakeTimeout == .milliseconds(2500))
        #expect(c.broker.maxMessageSize == 1_048_576)
        #expect(c.broker.virtualHosts == ["/", "prod"])
        #expect(c.broker.users.map(\.name) == ["admin"])
        #expect(c.broker.users.first?.password == "s3cret")
        #expect(c.broker.loopbackUsers.isEmpty)
        #expect(c.ioThreads == 2)
        #expect(c.broker.clusterName == "test")
    }

    @Test func infiniteRetention() throws {
        var c = ServerConfiguration()
        try ConfigurationFile.apply("storage.retention.time_ms = infinite\nvm_memory_high_watermark.relative = 0.6", to: &c)
        #expect(c.retainForever)
        #expect(c.memoryHighWatermark == .relative(0.6))
        #expect(throws: ConfigurationFile.ParseError.self) { try ConfigurationFile.apply("storage.segment_size = 10", to: &c) }
    }

    @Test func unknownKeyNamesTheLine() {
        var c = ServerConfiguration()
        #expect(throws: ConfigurationFile.ParseError.self) {
            try ConfigurationFile.apply("port = 1\nprot = 2\n", to: &c)
        }
        do {
            try ConfigurationFile.apply("port = 1\nprot = 2\n", to: &c)
        } catch {
            #expect(error.line == 2)
        }
    }

    @Test func badNumbersAndLevels() {
        var c = ServerConfiguration()
        #expect(throws: ConfigurationFile.ParseError.self) { try ConfigurationFile.apply("port = 99999", to: &c) }
        #expect(throws: ConfigurationFile.ParseError.self) { try ConfigurationFile.apply("log.level = loud", to: &c) }
        #expect(throws: ConfigurationFile.ParseError.self) { try ConfigurationFile.apply("just words", to: &c) }
        #expect(throws: ConfigurationFile.ParseError.self) { try ConfigurationFile.apply("storage.unsynced_batches = 3", to: &c) }
        #expect(throws: ConfigurationFile.ParseError.self) { try ConfigurationFile.apply("storage.commit_rounds_in_flight = 0", to: &c) }
    }
}
