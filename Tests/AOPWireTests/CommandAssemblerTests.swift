import AOPWire
import Testing

@Suite struct CommandAssemblerTests {
    static let publish = AMQPMethod.basicPublish(BasicPublish(exchange: "", routingKey: "q"))
    static func header(_ size: UInt64, classID: UInt16 = 60, weight: UInt16 = 0) -> Frame {
        .header(channel: 1, ContentHeader(classID: classID, weight: weight, bodySize: size, properties: BasicProperties(priority: 2)))
    }

    @Test func plainMethodPassesThrough() throws {
        var a = CommandAssembler(maxBodySize: 1 << 20)
        let out = try a.process(.method(channel: 1, .basicAck(BasicAck(deliveryTag: 1))))
        #expect(out == .method(.basicAck(BasicAck(deliveryTag: 1))))
        #expect(a.isIdle)
    }

    @Test func contentInSeveralBodyFrames() throws {
        var a = CommandAssembler(maxBodySize: 1 << 20)
        #expect(try a.process(.method(channel: 1, Self.publish)) == .needMore)
        #expect(!a.isIdle)
        #expect(try a.process(Self.header(5)) == .needMore)
        #expect(try a.process(.body(channel: 1, [1, 2])) == .needMore)
        #expect(try a.process(.heartbeat(channel: 0)) == .needMore)
        #expect(try a.process(.body(channel: 1, [])) == .needMore)
        let out = try a.process(.body(channel: 1, [3, 4, 5]))
        #expect(out == .content(Self.publish, ContentHeader(bodySize: 5, properties: BasicProperties(priority: 2)), body: [1, 2, 3, 4, 5]))
        #expect(a.isIdle)
        // and the next command works
        #expect(try a.process(.method(channel: 1, .txCommit(TxCommit()))) == .method(.txCommit(TxCommit())))
    }

    @Test func emptyBodyCompletesAtTheHeader() throws {
        var a = CommandAssembler(maxBodySize: 10)
        _ = try a.process(.method(channel: 1, Self.publish))
        let out = try a.process(Self.header(0))
        #expect(out == .content(Self.publish, ContentHeader(bodySize: 0, properties: BasicProperties(priority: 2)), body: []))
    }

    @Test func largeBodyAssembledFromManyFrames() throws {
        var a = CommandAssembler(maxBodySize: 8 << 20)
        _ = try a.process(.method(channel: 1, Self.publish))
        _ = try a.process(Self.header(8 << 20))
        let chunk = [UInt8](repeating: 9, count: 1024)
        var result: CommandAssembler.Output = .needMore
        for _ in 0..<(8 * 1024) { result = try a.process(.body(channel: 1, chunk)) }
        guard case .content(_, _, let body) = result else {
            Issue.record("no content")
            return
        }
        #expect(body.count == 8 << 20)
    }

    private func expectError(_ code: AMQPError.Code, _ frames: [Frame], maxBodySize: UInt64 = 1000,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        var a = CommandAssembler(maxBodySize: maxBodySize)
        let error = #expect(throws: AMQPError.self, sourceLocation: sourceLocation) {
            for f in frames { _ = try a.process(f) }
        }
        #expect(error?.code == code, sourceLocation: sourceLocation)
    }

    @Test func headerWithoutMethodIsUnexpected() {
        expectError(.unexpectedFrame, [Self.header(1)])
    }

    @Test func bodyWithoutMethodIsUnexpected() {
        expectError(.unexpectedFrame, [.body(channel: 1, [1])])
    }

    @Test func bodyBeforeHeaderIsUnexpected() {
        expectError(.unexpectedFrame, [.method(channel: 1, Self.publish), .body(channel: 1, [1])])
    }

    @Test func methodWhileAwaitingHeaderOrBodyIsUnexpected() {
        let ack = Frame.method(channel: 1, .basicAck(BasicAck(deliveryTag: 1)))
        expectError(.unexpectedFrame, [.method(channel: 1, Self.publish), ack])
        expectError(.unexpectedFrame, [.method(channel: 1, Self.publish), Self.header(3), ack])
    }

    @Test func secondHeaderIsUnexpected() {
        expectError(.unexpectedFrame, [.method(channel: 1, Self.publish), Self.header(3), Self.header(3)])
    }

    @Test func headerOfAnotherClassIsUnexpected() {
        var a = CommandAssembler(maxBodySize: 100)
        _ = try? a.process(.method(channel: 1, Self.publish))
        let error = #expect(throws: AMQPError.self) { try a.process(Self.header(3, classID: 50)) }
        #expect(error?.code.replyCode == 505)
        #expect(error?.classID == 60 && error?.methodID == 40)
    }

    @Test func nonZeroWeightIsUnexpected() {
        expectError(.unexpectedFrame, [.method(channel: 1, Self.publish), Self.header(3, weight: 1)])
    }

    @Test func bodyBeyondDeclaredSizeIsFrameError() {
        expectError(.frameError, [.method(channel: 1, Self.publish), Self.header(3), .body(channel: 1, [1, 2, 3, 4])])
        expectError(.frameError, [.method(channel: 1, Self.publish), Self.header(3), .body(channel: 1, [1, 2]),
                                  .body(channel: 1, [3, 4])])
    }

    @Test func bodySizeOverMaximumIsFrameError() throws {
        expectError(.frameError, [.method(channel: 1, Self.publish), Self.header(1001)], maxBodySize: 1000)
        var a = CommandAssembler(maxBodySize: 1000)
        _ = try a.process(.method(channel: 1, Self.publish))
        #expect(try a.process(Self.header(1000)) == .needMore)
    }
}
