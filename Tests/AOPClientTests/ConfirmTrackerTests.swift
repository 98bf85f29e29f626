@testable import AOPClient
import Testing

@Suite struct ConfirmTrackerTests {
    @Test func multipleAndSingleAcksSettleOnce() {
        var tracker = ConfirmTracker()
        #expect(tracker.publish(count: 10) == 10)
        #expect(tracker.outstanding == 10)
        #expect(tracker.settle(deliveryTag: 3, multiple: true, ack: true) == 3)
        #expect(tracker.settle(deliveryTag: 5, multiple: false, ack: false) == 1)  // out of order
        #expect(tracker.outstanding == 6)
        #expect(tracker.settle(deliveryTag: 5, multiple: false, ack: true) == 0)   // already settled
        #expect(tracker.settle(deliveryTag: 4, multiple: false, ack: true) == 1)   // closes the gap
        #expect(tracker.settledThrough == 5)
        #expect(tracker.settle(deliveryTag: 8, multiple: true, ack: true) == 3)
        #expect(tracker.settle(deliveryTag: 2, multiple: true, ack: true) == 0)    // behind: nothing
        #expect(tracker.settle(deliveryTag: 99, multiple: true, ack: true) == 2)   // clamped to published
        #expect(tracker.outstanding == 0)
        #expect(tracker.acked == 9 && tracker.nacked == 1)
    }

    @Test func multipleAckOverIndividuallySettledTagsCountsEachOnce() {
        var tracker = ConfirmTracker()
        _ = tracker.publish(count: 6)
        #expect(tracker.settle(deliveryTag: 3, multiple: false, ack: true) == 1)
        #expect(tracker.settle(deliveryTag: 5, multiple: false, ack: true) == 1)
        #expect(tracker.settle(deliveryTag: 6, multiple: true, ack: true) == 4)
        #expect(tracker.outstanding == 0 && tracker.acked == 6)
        #expect(tracker.settledAbove.isEmpty)
    }
}
