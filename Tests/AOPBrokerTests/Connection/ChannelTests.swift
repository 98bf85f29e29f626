@testable import AOPBroker
import AOPWire
import Testing

@Suite struct ChannelTests {
    func makeChannel() -> Channel {
        Channel(id: 1, maxBodySize: 1 << 20, sink: ChannelSink(channelID: 1, inbox: DeliveryInbox()))
    }

    func fill(_ channel: inout Channel, count: Int, queue: MessageQueue) {
        for _ in 0..<count {
            let tag = channel.takeDeliveryTag()
            channel.recordUnacked(tag: tag, .init(queue: queue, deliveryID: tag * 10, credit: nil))
        }
    }

    @Test func singleAckTakesExactlyThatTag() {
        var channel = self.makeChannel()
        let queue = MessageQueue(name: "q")
        self.fill(&channel, count: 5, queue: queue)
        let taken = channel.takeUnacked(tag: 3, multiple: false)
        #expect(taken?.map(\.0) == [3])
        #expect(taken?.first?.1.deliveryID == 30)
        #expect(channel.takeUnacked(tag: 3, multiple: false) == nil)  // already settled → 406 upstream
        #expect(Array(channel.unackedOrder) == [1, 2, 4, 5])
    }

    @Test func multipleTakesEverythingUpToTheTag() {
        var channel = self.makeChannel()
        let queue = MessageQueue(name: "q")
        self.fill(&channel, count: 5, queue: queue)
        _ = channel.takeUnacked(tag: 2, multiple: false)
        #expect(channel.takeUnacked(tag: 4, multiple: true)?.map(\.0) == [1, 3, 4])
        #expect(Array(channel.unackedOrder) == [5])
    }

    @Test func multipleWithTagZeroTakesAll() {
        var channel = self.makeChannel()
        self.fill(&channel, count: 3, queue: MessageQueue(name: "q"))
        #expect(channel.takeUnacked(tag: 0, multiple: true)?.map(\.0) == [1, 2, 3])
        #expect(channel.unacked.isEmpty)
    }

    @Test func unknownTagsAreRejected() {
        var channel = self.makeChannel()
        self.fill(&channel, count: 2, queue: MessageQueue(name: "q"))
        #expect(channel.takeUnacked(tag: 9, multiple: false) == nil)
        #expect(channel.takeUnacked(tag: 9, multiple: true) == nil)
        _ = channel.takeUnacked(tag: 2, multiple: true)
        // Every tag up to 2 is settled: a repeated multiple ack names nothing left → unknown.
        #expect(channel.takeUnacked(tag: 2, multiple: true) == nil)
    }

    @Test func takeAllKeepsTagOrder() {
        var channel = self.makeChannel()
        self.fill(&channel, count: 4, queue: MessageQueue(name: "q"))
        _ = channel.takeUnacked(tag: 2, multiple: false)
        #expect(channel.takeAllUnacked().map(\.0) == [1, 3, 4])
        #expect(channel.unackedOrder.isEmpty)
    }
}

@Suite struct CreditGateTests {
    @Test func perConsumerLimit() {
        let gate = CreditGate(consumerLimit: 3, channel: nil, unlimited: false)
        #expect(gate.tryAcquire(2) == 2)
        #expect(gate.tryAcquire(5) == 1)
        #expect(!gate.hasCredit)
        gate.settled(2)
        #expect(gate.tryAcquire(5) == 2)
    }

    @Test func channelLimitIsSharedByConsumers() {
        let channel = ChannelCredit(limit: 4)
        let a = CreditGate(consumerLimit: 0, channel: channel, unlimited: false)
        let b = CreditGate(consumerLimit: 0, channel: channel, unlimited: false)
        #expect(a.tryAcquire(3) == 3)
        #expect(b.tryAcquire(3) == 1)
        #expect(!a.hasCredit && !b.hasCredit)
        a.settled(3)
        #expect(b.tryAcquire(10) == 3)
    }

    @Test func bothLimitsApply() {
        let channel = ChannelCredit(limit: 10)
        let a = CreditGate(consumerLimit: 2, channel: channel, unlimited: false)
        #expect(a.tryAcquire(5) == 2)
        let b = CreditGate(consumerLimit: 0, channel: channel, unlimited: false)
        #expect(b.tryAcquire(20) == 8)
    }

    @Test func transitWindowBoundsDeliveriesNotYetWritten() {
        let gate = CreditGate(consumerLimit: 0, channel: nil, unlimited: false, transitWindow: 3)
        #expect(gate.tryAcquire(5) == 3)
        #expect(!gate.hasCredit)
        gate.settled(3)  // acks do not free transit credit
        #expect(gate.tryAcquire(1) == 0)
        gate.transmitted(2)
        #expect(gate.tryAcquire(5) == 2)
    }

    @Test func noAckConsumersAreLimitedOnlyByTransit() {
        let gate = CreditGate(consumerLimit: 1, channel: ChannelCredit(limit: 1), unlimited: true, transitWindow: 4)
        #expect(gate.tryAcquire(10) == 4)
        gate.transmitted(4)
        #expect(gate.tryAcquire(10) == 4)
        gate.release(4)  // undo: transit returns
        #expect(gate.tryAcquire(1) == 1)
    }

    @Test func releaseUndoesBothPrefetchAndTransit() {
        let gate = CreditGate(consumerLimit: 2, channel: nil, unlimited: false, transitWindow: 2)
        #expect(gate.tryAcquire(2) == 2)
        gate.release(2)
        #expect(gate.tryAcquire(2) == 2)
    }

    @Test func zeroMeansUnlimited() {
        let gate = CreditGate(consumerLimit: 0, channel: ChannelCredit(limit: 0), unlimited: false)
        #expect(gate.tryAcquire(100_000) == 100_000)
        let free = CreditGate(consumerLimit: 1, channel: nil, unlimited: true)
        #expect(free.tryAcquire(7) == 7)
    }
}

@Suite struct AuthenticatorTests {
    let auth = Authenticator(configuration: {
        var c = BrokerConfiguration()
        c.users.append(.init(name: "app", password: "pw", virtualHosts: ["prod"]))
        c.virtualHosts = ["/", "prod"]
        return c
    }())

    @Test func goodAndBadPasswords() {
        #expect(self.auth.authenticate(.init(username: "guest", password: "guest"), mechanism: "PLAIN", fromLoopback: true) == nil)
        let bad = self.auth.authenticate(.init(username: "guest", password: "x"), mechanism: "PLAIN", fromLoopback: true)
        #expect(bad?.code.replyCode == 403)
        #expect(bad?.code.closesConnection == true)
        #expect(self.auth.authenticate(.init(username: "nobody", password: "guest"), mechanism: "PLAIN", fromLoopback: true) != nil)
    }

    @Test func guestOnlyFromLoopback() {
        let e = self.auth.authenticate(.init(username: "guest", password: "guest"), mechanism: "PLAIN", fromLoopback: false)
        #expect(e?.code.replyCode == 403)
        #expect(self.auth.authenticate(.init(username: "app", password: "pw"), mechanism: "PLAIN", fromLoopback: false) == nil)
    }

    @Test func vhostAccess() {
        #expect(self.auth.authorize(username: "guest", virtualHost: "prod", exists: true) == nil)
        #expect(self.auth.authorize(username: "app", virtualHost: "prod", exists: true) == nil)
        #expect(self.auth.authorize(username: "app", virtualHost: "/", exists: true)?.code.replyCode == 530)
        #expect(self.auth.authorize(username: "guest", virtualHost: "nope", exists: false)?.code.replyCode == 530)
    }
}
