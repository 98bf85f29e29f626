import Testing
@testable import AOPStress

@Suite struct DrainCheckTests {
    @Test func emptyOnlyWithoutReadyMessagesAndForeignConsumers() {
        #expect(DrainCheck.verdict(messageCount: 0, consumerCount: 1, ownConsumers: 1) == .empty)
        #expect(DrainCheck.verdict(messageCount: 0, consumerCount: 0, ownConsumers: 0) == .empty)
        #expect(DrainCheck.verdict(messageCount: 0, consumerCount: 2, ownConsumers: 1) == .consumerLeft)
        #expect(DrainCheck.verdict(messageCount: 0, consumerCount: 1, ownConsumers: 0) == .consumerLeft)
        #expect(DrainCheck.verdict(messageCount: 3, consumerCount: 1, ownConsumers: 1) == .messagesLeft)
        #expect(DrainCheck.verdict(messageCount: 1, consumerCount: 0, ownConsumers: 0) == .messagesLeft)
    }

    @Test func otherConsumersLeaveOutTheDrainsOwn() {
        #expect(DrainCheck.otherConsumers(consumerCount: 3, ownConsumers: 1) == 2)
        #expect(DrainCheck.otherConsumers(consumerCount: 1, ownConsumers: 1) == 0)
        #expect(DrainCheck.otherConsumers(consumerCount: 0, ownConsumers: 1) == 0)
        #expect(DrainCheck.otherConsumers(consumerCount: 2, ownConsumers: 0) == 2)
    }

    @Test func quietAfterThePeriod() {
        let start = ContinuousClock.now
        #expect(!DrainCheck.isQuiet(lastDelivery: start, now: start + .milliseconds(299), quiet: .milliseconds(300)))
        #expect(DrainCheck.isQuiet(lastDelivery: start, now: start + .milliseconds(300), quiet: .milliseconds(300)))
        #expect(DrainCheck.isQuiet(lastDelivery: start, now: start + .seconds(2), quiet: .milliseconds(300)))
    }

    @Test func rateInMessagesPerSecond() {
        #expect(DrainCheck.rate(messages: 1000, elapsed: .milliseconds(500)) == 2000)
        #expect(DrainCheck.rate(messages: 30, elapsed: .seconds(4)) == 7.5)
        #expect(DrainCheck.rate(messages: 5, elapsed: .zero) == 0)
    }
}
