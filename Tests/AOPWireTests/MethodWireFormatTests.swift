import AOPWire
import Testing

/// Byte-exact checks against the spec's layout (bit packing, field order), which round trips alone cannot catch.
@Suite struct MethodWireFormatTests {
    private func bytes(_ method: AMQPMethod) -> [UInt8] {
        var buffer = ByteBuffer()
        method.encode(into: &buffer)
        return buffer.readableBytesArray
    }

    @Test func queueDeclarePacksFiveBitsLSBFirst() {
        let m = AMQPMethod.queueDeclare(QueueDeclare(queue: "q", passive: true, durable: false, exclusive: true,
                                                     autoDelete: false, noWait: true))
        #expect(bytes(m) == [0, 50, 0, 10, 0, 0, 1, 0x71, 0b0001_0101, 0, 0, 0, 0])
    }

    @Test func basicPublishLayout() {
        let m = AMQPMethod.basicPublish(BasicPublish(exchange: "ex", routingKey: "rk", mandatory: false, immediate: true))
        #expect(bytes(m) == [0, 60, 0, 40, 0, 0, 2, 0x65, 0x78, 2, 0x72, 0x6B, 0b10])
    }

    @Test func basicNackPacksMultipleAndRequeue() {
        let m = AMQPMethod.basicNack(BasicNack(deliveryTag: 0x0102, multiple: false, requeue: true))
        #expect(bytes(m) == [0, 60, 0, 120, 0, 0, 0, 0, 0, 0, 1, 2, 0b10])
    }

    @Test func connectionTuneLayout() {
        let m = AMQPMethod.connectionTune(ConnectionTune(channelMax: 2047, frameMax: 131_072, heartbeat: 60))
        #expect(bytes(m) == [0, 10, 0, 30, 0x07, 0xFF, 0, 2, 0, 0, 0, 60])
    }

    @Test func connectionOpenHasTwoReservedFields() {
        let m = AMQPMethod.connectionOpen(ConnectionOpen(virtualHost: "/"))
        #expect(bytes(m) == [0, 10, 0, 40, 1, 0x2F, 0, 0])
    }

    @Test func connectionCloseLayout() {
        let m = AMQPMethod.connectionClose(ConnectionClose(replyCode: 501, replyText: "X", classID: 60, methodID: 40))
        #expect(bytes(m) == [0, 10, 0, 50, 0x01, 0xF5, 1, 0x58, 0, 60, 0, 40])
    }

    @Test func connectionBlockedAndUpdateSecret() {
        #expect(bytes(.connectionBlocked(ConnectionBlocked(reason: "low"))) == [0, 10, 0, 60, 3, 0x6C, 0x6F, 0x77])
        #expect(bytes(.connectionUnblocked(ConnectionUnblocked())) == [0, 10, 0, 61])
        #expect(bytes(.connectionUpdateSecret(ConnectionUpdateSecret(newSecret: [9], reason: "r")))
            == [0, 10, 0, 70, 0, 0, 0, 1, 9, 1, 0x72])
    }

    @Test func confirmSelectNoWaitAlias() {
        var m = ConfirmSelect(noWait: true)
        #expect(m.nowait)
        m.noWait = false
        #expect(bytes(.confirmSelect(m)) == [0, 85, 0, 10, 0])
    }

    /// Nine consecutive bits would need two octets; the spec has none, but access.request has five.
    @Test func accessRequestBits() {
        let m = AMQPMethod.accessRequest(AccessRequest(realm: "/data", exclusive: false, passive: true,
                                                       active: true, write: true, read: true))
        #expect(bytes(m) == [0, 30, 0, 10, 5] + Array("/data".utf8) + [0b1_1110])
    }

    @Test func decodesPikaStyleBasicConsume() throws {
        // reserved-1, queue "q", consumer-tag "", bits (no-ack), empty arguments
        var buffer = ByteBuffer(bytes: [0, 60, 0, 20, 0, 0, 1, 0x71, 0, 0b10, 0, 0, 0, 0])
        let m = try AMQPMethod.decode(from: &buffer)
        #expect(m == .basicConsume(BasicConsume(queue: "q", consumerTag: "", noAck: true)))
    }
}
