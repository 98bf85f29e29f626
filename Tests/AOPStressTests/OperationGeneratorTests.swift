import Testing
@testable import AOPStress

@Suite struct OperationGeneratorTests {
    let topology = StressTopology(prefix: "r")

    func stream(seed: UInt64, connection: Int, channel: Int, count: Int = 500) -> [StressOperation] {
        var generator = OperationGenerator(topology: topology, seed: seed, connection: connection, channel: channel)
        return (0..<count).map { _ in generator.next() }
    }

    @Test func sameSeedSameStreamOtherSlotsDiffer() {
        #expect(stream(seed: 5, connection: 1, channel: 2) == stream(seed: 5, connection: 1, channel: 2))
        #expect(stream(seed: 5, connection: 1, channel: 2) != stream(seed: 5, connection: 1, channel: 3))
        #expect(stream(seed: 5, connection: 1, channel: 2) != stream(seed: 6, connection: 1, channel: 2))
    }

    @Test func coversEveryOperationKind() {
        let kinds = Set((0..<20).flatMap { stream(seed: UInt64($0), connection: 0, channel: 0) }.map(\.kind))
        for kind in ["publish", "publish-mandatory", "consume", "consume-noack", "cancel", "get", "get-noack", "ack",
                     "nack-requeue", "nack-drop", "reject-requeue", "reject-drop", "recover", "qos",
                     "exchange-declare", "exchange-delete", "queue-declare", "queue-delete", "bind", "unbind",
                     "channel-close", "connection-close", "connection-abort"] {
            #expect(kinds.contains(kind), "never generated: \(kind)")
        }
    }

    @Test func noAckReadsNeverTouchStableQueues() {
        for op in stream(seed: 9, connection: 0, channel: 0, count: 5000) {
            if case .consume(.stable, true, _, _) = op { Issue.record("no-ack consumer on a stable queue") }
            if case .get(.stable, true) = op { Issue.record("no-ack get on a stable queue") }
        }
    }

    @Test func connectionChurnCanBeTurnedOff() {
        var generator = OperationGenerator(topology: topology, seed: 1, connection: 0, channel: 0,
                                           weights: .init(connectionChurn: 0))
        for _ in 0..<5000 {
            switch generator.next() {
            case .closeConnection, .abortConnection: Issue.record("connection churn with weight 0")
            default: break
            }
        }
    }
}
