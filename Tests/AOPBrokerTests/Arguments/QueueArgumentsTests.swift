import AOPWire
import Testing
@testable import AOPBroker

@Suite struct QueueArgumentsTests {
    private func parse(_ args: FieldTable, types: Set<QueueType> = [.classic]) throws(AMQPError) -> QueueArguments {
        try QueueArguments(parsing: args, queue: "q", vhost: "/", supportedTypes: types)
    }

    private func expectError(_ args: FieldTable, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: AMQPError.preconditionFailed(message), sourceLocation: sourceLocation) { try parse(args) }
    }

    @Test func parsesTypedValues() throws {
        let a = try parse([
            "x-message-ttl": .int32(1000), "x-expires": .int64(60_000), "x-max-length": .uint16(10),
            "x-max-length-bytes": .int64(1 << 40), "x-overflow": "reject-publish-dlx",
            "x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": "dead",
            "x-max-priority": .uint8(10), "x-single-active-consumer": true, "x-queue-type": "classic",
            "x-queue-mode": "lazy", "x-consumer-timeout": .int64(5000), "x-unknown": "kept",
        ])
        #expect(a.queueType == .classic)
        #expect(a.messageTTL == 1000)
        #expect(a.expires == 60_000)
        #expect(a.maxLength == 10)
        #expect(a.maxLengthBytes == 1 << 40)
        #expect(a.overflow == .rejectPublishDLX)
        #expect(a.deadLetterExchange == "dlx")
        #expect(a.deadLetterRoutingKey == "dead")
        #expect(a.maxPriority == 10)
        #expect(a.singleActiveConsumer)
        #expect(a.consumerTimeout == 5000)
        #expect(a.raw["x-unknown"] == "kept")
    }

    @Test func defaults() throws {
        let a = try parse([:])
        #expect(a == QueueArguments())
        #expect(a.effectiveOverflow == .dropHead)
        #expect(a.messageTTL == nil && a.maxPriority == nil && !a.singleActiveConsumer)
        #expect(try parse(["x-consumer-timeout": "soon"]).consumerTimeout == nil)
        #expect(try parse(["x-message-ttl": .int32(0)]).messageTTL == 0)
        #expect(try parse(["x-max-priority": .int32(0)]).maxPriority == 0)
    }

    @Test func rabbitMQErrorTexts() {
        expectError(["x-max-length": .int32(-1)], "invalid arg 'x-max-length' for queue 'q' in vhost '/': {value_negative,-1}")
        expectError(["x-max-length": "10"],
                    "invalid arg 'x-max-length' for queue 'q' in vhost '/': \"expected integer, got longstr\"")
        expectError(["x-max-length-bytes": .double(1)],
                    "invalid arg 'x-max-length-bytes' for queue 'q' in vhost '/': \"expected integer, got double\"")
        expectError(["x-message-ttl": .int64(-5)], "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-5}")
        expectError(["x-message-ttl": .int64(315_360_000_001)],
                    "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_too_large,315360000001}")
        expectError(["x-message-ttl": .timestamp(5)],
                    "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': \"expected integer, got timestamp\"")
        expectError(["x-expires": .int32(0)], "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}")
        expectError(["x-max-priority": .int32(256)], "invalid arg 'x-max-priority' for queue 'q' in vhost '/': {max_value_exceeded,256}")
        expectError(["x-overflow": "drop-tail"], "invalid arg 'x-overflow' for queue 'q' in vhost '/': invalid_overflow")
        expectError(["x-overflow": .int32(1)], "invalid arg 'x-overflow' for queue 'q' in vhost '/': {unacceptable_type,signedint}")
        expectError(["x-single-active-consumer": "true"],
                    "invalid arg 'x-single-active-consumer' for queue 'q' in vhost '/': {unacceptable_type,longstr}")
        expectError(["x-dead-letter-routing-key": "rk"],
                    "invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': routing_key_but_no_dlx_defined")
        expectError(["x-dead-letter-exchange": .int32(1)],
                    "invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'")
        expectError(["x-queue-mode": "eager"],
                    "invalid arg 'x-queue-mode' for queue 'q' in vhost '/': \"unsupported queue mode 'eager'\"")
        expectError(["x-queue-version": .int32(3)],
                    "invalid arg 'x-queue-version' for queue 'q' in vhost '/': \"unsupported queue version '3'\"")
        expectError(["x-queue-type": "fancy"],
                    "invalid arg 'x-queue-type' for queue 'q' in vhost '/': \"unsupported queue type 'fancy'\"")
        expectError(["x-queue-type": .int32(1)],
                    "invalid arg 'x-queue-type' for queue 'q' in vhost '/': {unacceptable_type,signedint}")
        expectError(["x-delivery-limit": .int32(5)],
                    "invalid arg 'x-delivery-limit' for queue 'q' in vhost '/' of queue type rabbit_classic_queue")
        expectError(["x-max-age": "1D"],
                    "invalid arg 'x-max-age' for queue 'q' in vhost '/' of queue type rabbit_classic_queue")
    }

    @Test func unsupportedQueueTypesAreRefusedUnlessEnabled() throws {
        expectError(["x-queue-type": "quorum"],
                    "invalid arg 'x-queue-type' for queue 'q' in vhost '/': \"unsupported queue type 'quorum'\"")
        let quorum = try parse(["x-queue-type": "quorum", "x-delivery-limit": .int32(5)], types: [.classic, .quorum])
        #expect(quorum.queueType == .quorum)
        #expect(throws: AMQPError.preconditionFailed(
            "invalid arg 'x-max-priority' for queue 'q' in vhost '/' of queue type rabbit_quorum_queue")) {
            try parse(["x-queue-type": "quorum", "x-max-priority": .int32(5)], types: [.classic, .quorum])
        }
    }

    @Test func firstFailureInRabbitMQOrder() {
        // x-expires is checked before x-max-length (declare_args order), whatever the table order.
        expectError(["x-max-length": .int32(-1), "x-expires": .int32(0)],
                    "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}")
        // The DLX type check (in the channel) comes before every other check.
        expectError(["x-expires": .int32(0), "x-dead-letter-exchange": true],
                    "invalid type 'bool' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'")
    }

    @Test func every406IsAChannelError() {
        let error = #expect(throws: AMQPError.self) { try parse(["x-max-length": .int32(-1)]) }
        #expect(error?.code.replyCode == 406)
        #expect(error?.code.closesConnection == false)
    }

    @Test func equivalence() throws {
        let declared = try parse(["x-message-ttl": .int32(1000), "x-unknown": 1])
        try declared.assertEquivalent(to: ["x-message-ttl": .int64(1000), "x-unknown": 2], queue: "q", vhost: "/")
        try declared.assertEquivalent(to: ["x-message-ttl": .int32(1000), "x-queue-type": "classic"], queue: "q", vhost: "/")
        #expect(throws: AMQPError.preconditionFailed(
            "inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received '2000' but current is '1000'")) {
            try declared.assertEquivalent(to: ["x-message-ttl": .int32(2000)], queue: "q", vhost: "/")
        }
        #expect(throws: AMQPError.preconditionFailed(
            "inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received none but current is the value '1000' of type 'signedint'")) {
            try declared.assertEquivalent(to: [:], queue: "q", vhost: "/")
        }
        #expect(throws: AMQPError.preconditionFailed(
            "inequivalent arg 'x-max-length' for queue 'q' in vhost '/': received the value '5' of type 'long' but current is none")) {
            try declared.assertEquivalent(to: ["x-message-ttl": .int32(1000), "x-max-length": .int64(5)], queue: "q", vhost: "/")
        }
        #expect(!declared.isEquivalent(to: ["x-message-ttl": .double(1000)]))
        let dlx = try parse(["x-dead-letter-exchange": "a"])
        #expect(dlx.isEquivalent(to: ["x-dead-letter-exchange": .bytes(Array("a".utf8))]))
        #expect(throws: AMQPError.preconditionFailed(
            "inequivalent arg 'x-dead-letter-exchange' for queue 'q' in vhost '/': received 'b' but current is 'a'")) {
            try dlx.assertEquivalent(to: ["x-dead-letter-exchange": "b"], queue: "q", vhost: "/")
        }
    }

    @Test func exchangeArguments() throws {
        let x = try ExchangeArguments(parsing: ["alternate-exchange": "ae", "other": 1], exchange: "x", vhost: "/")
        #expect(x.alternateExchange == "ae")
        #expect(throws: AMQPError.preconditionFailed(
            "invalid type 'signedint' for arg 'alternate-exchange' in exchange 'x' in vhost '/'")) {
            try ExchangeArguments(parsing: ["alternate-exchange": .int32(1)], exchange: "x", vhost: "/")
        }
        try x.assertEquivalent(to: ["alternate-exchange": "ae"], exchange: "x", vhost: "/")
        #expect(throws: AMQPError.preconditionFailed(
            "inequivalent arg 'alternate-exchange' for exchange 'x' in vhost '/': received none but current is the value 'ae' of type 'longstr'")) {
            try x.assertEquivalent(to: [:], exchange: "x", vhost: "/")
        }
    }
}
