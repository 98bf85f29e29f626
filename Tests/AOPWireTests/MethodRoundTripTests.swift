import AOPTestSupport
import AOPWire
import Testing

@Suite struct MethodRoundTripTests {
    @Test(arguments: MethodSamples.all)
    func roundTripsThroughPayload(_ method: AMQPMethod) throws {
        var buffer = ByteBuffer()
        method.encode(into: &buffer)
        #expect(buffer.getInteger(at: 0, as: UInt16.self) == method.classID)
        #expect(buffer.getInteger(at: 2, as: UInt16.self) == method.methodID)
        let decoded = try AMQPMethod.decode(from: &buffer)
        #expect(decoded == method)
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: MethodSamples.all)
    func roundTripsThroughFrame(_ method: AMQPMethod) throws {
        var buffer = ByteBuffer()
        buffer.writeMethodFrame(channel: 7, method)
        var decoder = FrameDecoder(maxFrameSize: 0)
        let frame = try decoder.next(from: &buffer)
        #expect(frame == .method(channel: 7, method))
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: MethodSamples.all)
    func everyTruncationIsAFrameError(_ method: AMQPMethod) throws {
        var full = ByteBuffer()
        method.encode(into: &full)
        let bytes = full.readableBytesArray
        guard bytes.count > 4 else { return }
        for cut in 4..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes[0..<cut])
            let error = #expect(throws: AMQPError.self) { try AMQPMethod.decode(from: &buffer) }
            #expect(error?.code == .frameError, "cut at \(cut)")
            #expect(error?.classID == method.classID)
            #expect(error?.methodID == method.methodID)
            #expect(buffer.readerIndex == 0)
        }
    }

    @Test func samplesCoverEveryMethodOnce() {
        let names = Set(MethodSamples.all.map(\.name))
        #expect(names.count == 66)
        let ids = Set(MethodSamples.all.map { UInt32($0.classID) << 16 | UInt32($0.methodID) })
        #expect(ids.count == 66)
        for extra in ["connection.blocked", "connection.unblocked", "connection.update-secret",
                      "connection.update-secret-ok", "access.request", "access.request-ok", "confirm.select",
                      "basic.nack", "exchange.bind", "exchange.unbind-ok"] {
            #expect(names.contains(extra), "\(extra)")
        }
    }

    @Test func contentMethodsAreTheFourFromTheSpec() {
        let content = Set(MethodSamples.all.filter(\.hasContent).map(\.name))
        #expect(content == ["basic.publish", "basic.return", "basic.deliver", "basic.get-ok"])
    }

    @Test func structStaticsMatchTheEnum() {
        #expect(AMQPMethod.basicPublish(BasicPublish(exchange: "", routingKey: "")).name == BasicPublish.name)
        #expect(BasicPublish.classID == 60 && BasicPublish.methodID == 40)
        #expect(ConnectionBlocked.classID == 10 && ConnectionBlocked.methodID == 60)
        #expect(ConnectionUnblocked.methodID == 61)
        #expect(ConnectionUpdateSecret.methodID == 70 && ConnectionUpdateSecretOk.methodID == 71)
        #expect(ConfirmSelect.classID == 85 && TxSelect.classID == 90 && AccessRequest.classID == 30)
        #expect(ExchangeUnbindOk.methodID == 51)
        #expect(AMQPMethod.queueDeclare(QueueDeclare(queue: "q")).isSynchronousRequest)
        #expect(!AMQPMethod.basicAck(BasicAck(deliveryTag: 1)).isSynchronousRequest)
    }

    @Test func unknownClassOrMethodIsNotImplemented() {
        for (classID, methodID): (UInt16, UInt16) in [(60, 41), (99, 10), (0, 0), (10, 72)] {
            var buffer = ByteBuffer()
            buffer.writeInteger(classID)
            buffer.writeInteger(methodID)
            let error = #expect(throws: AMQPError.self) { try AMQPMethod.decode(from: &buffer) }
            #expect(error?.code == .notImplemented)
            #expect(error?.code.replyCode == 540)
            #expect(error?.classID == classID && error?.methodID == methodID)
        }
    }

    @Test func trailingBytesAreAFrameError() {
        var buffer = ByteBuffer()
        AMQPMethod.basicAck(BasicAck(deliveryTag: 5, multiple: true)).encode(into: &buffer)
        buffer.writeInteger(UInt8(0))
        let error = #expect(throws: AMQPError.self) { try AMQPMethod.decode(from: &buffer) }
        #expect(error?.code.replyCode == 501)
        #expect(error?.classID == 60 && error?.methodID == 80)
    }

    @Test func truncatedClassIDIsAFrameError() {
        var buffer = ByteBuffer(bytes: [0, 60, 0])
        let error = #expect(throws: AMQPError.self) { try AMQPMethod.decode(from: &buffer) }
        #expect(error?.code == .frameError)
    }
}

@Suite struct MethodClassificationTests {
    @Test func basicRecoverIsSynchronousInRabbitMQ() {
        #expect(AMQPMethod.basicRecover(BasicRecover(requeue: true)).isSynchronousRequest)
        #expect(!AMQPMethod.basicRecoverAsync(BasicRecoverAsync(requeue: true)).isSynchronousRequest)
        #expect(!AMQPMethod.basicPublish(BasicPublish(exchange: "", routingKey: "")).isSynchronousRequest)
    }
}
