import Testing
@testable import AOPStress

/// The checker against hand-made event logs: a clean run, and each kind of broker fault injected.
@Suite struct InvariantCheckerTests {
    let t = StressTopology(prefix: "r", stableQueueCount: 4)

    func id(_ p: UInt32, _ s: UInt64) -> MessageID { MessageID(producer: p, sequence: s) }

    /// Producer 1 publishes 1...5 to r.direct/k0 (→ r.s0, r.s1) with confirms; all acked.
    func published(count: UInt64 = 5, mandatory: Bool = false) -> [StressEvent] {
        (1...count).flatMap { s -> [StressEvent] in
            [.published(PublishRecord(id: id(1, s), exchange: "r.direct", routingKey: "k0", mandatory: mandatory,
                                      confirmMode: true)),
             .confirmed(id(1, s), ack: true)]
        }
    }

    func deliver(_ s: UInt64, from queue: String, channel: UInt64 = 10, consumer: String? = "c", tag: UInt64,
                 redelivered: Bool = false, drain: Bool = false) -> StressEvent {
        .delivered(DeliveryRecord(channel: channel, consumerTag: consumer, queue: queue, deliveryTag: tag,
                                  redelivered: redelivered, message: id(1, s), drain: drain))
    }

    /// Every message delivered once from each queue (s0 by a consumer, s1 by the drain).
    func cleanRun() -> [StressEvent] {
        published()
            + (1...5).map { deliver($0, from: "r.s0", tag: $0) }
            + (1...5).map { deliver($0, from: "r.s1", channel: 99, consumer: nil, tag: $0, drain: true) }
    }

    func kinds(_ events: [StressEvent]) -> [Violation.Kind] {
        InvariantChecker.check(events, topology: t).violations.map(\.kind)
    }

    @Test func cleanRunHasNoViolations() {
        let result = InvariantChecker.check(cleanRun(), topology: t)
        #expect(result.violations.isEmpty)
        #expect(result.counts.trackedMessages == 5)
        #expect(result.counts.trackedRoutes == 10)
        #expect(result.counts.drained == 5)
    }

    @Test func detectsALostConfirmedMessage() {
        var events = cleanRun()
        events.removeAll { $0 == deliver(3, from: "r.s1", channel: 99, consumer: nil, tag: 3, drain: true) }
        let violations = InvariantChecker.check(events, topology: t).violations
        #expect(violations.map(\.kind) == [.lost])
        #expect(violations.first?.detail.contains("p1#3") == true)
        #expect(violations.first?.detail.contains("r.s1") == true)
    }

    @Test func lossesOfUnconfirmedMessagesOrLossyQueuesAreNotViolations() {
        var unconfirmed = cleanRun()
        unconfirmed.removeAll { $0 == .confirmed(id(1, 3), ack: true) || $0 == deliver(3, from: "r.s0", tag: 3) }
        unconfirmed.append(.confirmed(id(1, 3), ack: false))
        #expect(kinds(unconfirmed).isEmpty)
        var lossy = cleanRun()
        lossy.removeAll { $0 == deliver(4, from: "r.s0", tag: 4) }
        lossy.append(.lossAllowed(queue: "r.s0", reason: "no-ack get failed"))
        #expect(kinds(lossy).isEmpty)
    }

    @Test func detectsAnUnflaggedDuplicateButAcceptsFlaggedRedeliveries() {
        var flagged = cleanRun()
        flagged.append(deliver(2, from: "r.s0", channel: 11, tag: 1, redelivered: true))
        #expect(kinds(flagged).isEmpty)
        var duplicate = cleanRun()
        duplicate.append(deliver(2, from: "r.s0", channel: 11, tag: 1))
        #expect(kinds(duplicate) == [.duplicate])
    }

    @Test func detectsMisorderPerConsumerOnly() {
        var misordered = published()
        misordered += [deliver(1, from: "r.s0", tag: 1), deliver(3, from: "r.s0", tag: 2),
                       deliver(2, from: "r.s0", tag: 3)]
        #expect(kinds(misordered).contains(.misordered))
        // Two consumers sharing a queue each see an increasing subsequence: fine.
        var shared = published()
        shared += [deliver(1, from: "r.s0", consumer: "a", tag: 1), deliver(3, from: "r.s0", consumer: "a", tag: 2),
                   deliver(2, from: "r.s0", consumer: "b", tag: 3)]
        #expect(!kinds(shared).contains(.misordered))
        // A requeued message may come back late when flagged.
        var requeued = published()
        requeued += [deliver(1, from: "r.s0", tag: 1), deliver(3, from: "r.s0", tag: 2),
                     deliver(1, from: "r.s0", tag: 3, redelivered: true)]
        #expect(!kinds(requeued).contains(.misordered))
    }

    @Test func ordersByDeliveryTagNotByArrival() {
        // A client library that hands deliveries over out of order (tags 1, 3, 2) is not the broker's fault.
        var reordered = published()
        reordered += [deliver(1, from: "r.s0", tag: 1), deliver(3, from: "r.s0", tag: 3), deliver(2, from: "r.s0", tag: 2)]
        #expect(!kinds(reordered).contains(.misordered))
        // The broker sending sequence 3 with an earlier tag than sequence 2 is.
        var misordered = published()
        misordered += [deliver(1, from: "r.s0", tag: 1), deliver(3, from: "r.s0", tag: 2), deliver(2, from: "r.s0", tag: 3)]
        #expect(kinds(misordered).filter { $0 == .misordered }.count == 1)
    }

    @Test func detectsMisroutingAndRoutableReturns() {
        var misrouted = published()
        misrouted.append(deliver(1, from: "r.s2", tag: 1))
        #expect(kinds(misrouted).contains(.misrouted))
        var returned = published(mandatory: true)
        returned.append(.returned(id(1, 2)))
        #expect(kinds(returned).contains(.returnedRoutable))
        // Unroutable key: a return is correct.
        let unroutable: [StressEvent] = [
            .published(PublishRecord(id: id(2, 1), exchange: "r.direct", routingKey: "nowhere", mandatory: true,
                                     confirmMode: true)),
            .returned(id(2, 1)), .confirmed(id(2, 1), ack: true),
        ]
        #expect(kinds(unroutable).isEmpty)
    }

    @Test func detectsDeliveryAfterCancelTagReuseUnknownAndCorruptMessages() {
        var events = cleanRun()
        events.append(.unexpectedDelivery(channel: 10, consumerTag: "c", deliveryTag: 50))
        events.append(deliver(1, from: "r.s0", channel: 12, tag: 7, redelivered: true))
        events.append(deliver(2, from: "r.s0", channel: 12, tag: 7, redelivered: true))
        events.append(.delivered(DeliveryRecord(channel: 13, consumerTag: "c", queue: "r.s0", deliveryTag: 1,
                                                redelivered: false, message: id(9, 9))))
        events.append(.corrupt(channel: 13, queue: "r.s0", detail: "checksum mismatch"))
        #expect(Set(kinds(events)) == [.deliveryAfterCancel, .deliveryTagReused, .unknownMessage, .corrupt])
    }

    @Test func channelEndForgetsTagsAndOrder() {
        var events = published()
        events += [deliver(2, from: "r.s0", channel: 20, tag: 1), .channelEnded(20),
                   deliver(1, from: "r.s0", channel: 20, tag: 1, redelivered: true)]
        #expect(kinds(events).isEmpty == false)   // s1 was never drained: losses only
        #expect(Set(kinds(events)) == [.lost])
    }

    @Test func eventLogFeedsTheChecker() {
        let log = EventLog(topology: t, keepEvents: true)
        log.record(cleanRun())
        log.record(deliver(2, from: "r.s0", channel: 11, tag: 1))
        #expect(log.events.count == cleanRun().count + 1)
        #expect(log.finish().violations.map(\.kind) == [.duplicate])
    }
}
