import AOPIO
@testable import AOPStorage
import Testing

/// `appendWritten` + `CommitHold`: writes to several topics made durable by one commit round.
@Suite struct GroupCommitHoldTests {
    @Test func heldCommitCoversWritesToSeveralTopicsInOneRound() async throws {
        let fs = SimulatedFileSystem()
        let engine = try await openEngine(fs) { $0.maximumCommitHold = .seconds(60) }
        let messages = try await engine.persistentTopic(named: "messages")
        let index = try await engine.persistentTopic(named: "index")
        let before = engine.statistics()
        let hold = try #require(await messages.holdCommits())
        let written = try await messages.appendWritten([payload("m0"), payload("m1")])
        let indexed = try await index.appendWritten([payload("i0")])
        #expect(written == [Position(0), Position(1)])
        #expect(indexed == [Position(0)])
        // Written, not durable: not readable, and no round has started while the hold is active.
        #expect(try await messages.read(from: .zero, limit: 10).isEmpty)
        #expect(engine.statistics().commitRounds == before.commitRounds)
        await hold.release()
        try await messages.waitUntilDurable(through: Position(1))
        try await index.waitUntilDurable(through: Position(0))
        let after = engine.statistics()
        #expect(after.commitRounds == before.commitRounds + 1)
        #expect(after.fileSyncs == before.fileSyncs + 2)
        #expect(try await messages.read(from: .zero, limit: 10).map(\.payload) == [payload("m0"), payload("m1")])
        // Durable: a power cut keeps both.
        fs.crash(seed: 1)
        let reopened = try await openEngine(fs)
        #expect(try await reopened.persistentTopic(named: "messages").read(from: .zero, limit: 10).count == 2)
        #expect(try await reopened.persistentTopic(named: "index").read(from: .zero, limit: 10).count == 1)
        await reopened.shutdown()
    }

    @Test func holdKeptTooLongIsOverridden() async throws {
        let fs = SimulatedFileSystem()
        let engine = try await openEngine(fs) { $0.maximumCommitHold = .milliseconds(1) }
        let topic = try await engine.persistentTopic(named: "t")
        let hold = try #require(await topic.holdCommits())
        // Never released before the append: the scheduler starts the round anyway.
        #expect(try await topic.append([payload("x")]) == [Position(0)])
        await hold.release()
        await engine.shutdown()
    }

    @Test func recoveredEndIsTheEndFoundAtOpen() async throws {
        let fs = SimulatedFileSystem()
        var engine = try await openEngine(fs)
        var topic = try await engine.persistentTopic(named: "t")
        #expect(topic.recoveredEnd == .zero)
        _ = try await topic.append([payload("a"), payload("b"), payload("c")])
        #expect(topic.recoveredEnd == .zero)   // fixed at open
        await engine.shutdown()
        engine = try await openEngine(fs)
        topic = try await engine.persistentTopic(named: "t")
        #expect(topic.recoveredEnd == Position(3))
        await engine.shutdown()
        #expect(InMemoryTopic(name: "m", kind: .persistent).recoveredEnd == Position(.max))
    }

    @Test func eventualAcknowledgementsAreCheckpointedWithoutFurtherCalls() async throws {
        let fs = SimulatedFileSystem()
        var engine = try await openEngine(fs) { $0.cursorCheckpointInterval = .milliseconds(1) }
        var topic = try await engine.persistentTopic(named: "q")
        _ = try await topic.append((0..<10).map { payload("m\($0)") })
        let cursor = try await topic.durableCursor(named: "c")
        await cursor.acknowledgeEventually(upTo: Position(3))
        await cursor.acknowledgeEventually([Position(5)])
        #expect(await cursor.isAcknowledged(Position(5)))   // applied at once
        // Nothing else calls the cursor: its own checkpoint makes the state durable.
        var durable = false
        for _ in 0..<2000 where !durable {
            try await Task.sleep(for: .milliseconds(2))
            let stored = await topic.cursorLog.values["c"].flatMap { AckRangeSet(encoded: $0) }
            durable = stored?.markDelete == Position(3) && stored?.contains(Position(5)) == true
        }
        #expect(durable)
        fs.crash(seed: 7)
        engine = try await openEngine(fs)
        topic = try await engine.persistentTopic(named: "q")
        let acks = try await topic.durableCursor(named: "c").acknowledgements
        #expect(acks.markDelete == Position(3))
        #expect(acks.contains(Position(5)))
        await engine.shutdown()
    }

    @Test func closingTheTopicWritesPendingAcknowledgements() async throws {
        let fs = SimulatedFileSystem()
        var engine = try await openEngine(fs) { $0.cursorCheckpointInterval = .seconds(3600) }
        var topic = try await engine.persistentTopic(named: "q")
        _ = try await topic.append((0..<4).map { payload("m\($0)") })
        let cursor = try await topic.durableCursor(named: "c")
        await cursor.acknowledgeEventually([Position(2)])
        await engine.shutdown()   // the hour-long interval has not passed: shutdown writes it
        engine = try await openEngine(fs)
        topic = try await engine.persistentTopic(named: "q")
        #expect(try await topic.durableCursor(named: "c").isAcknowledged(Position(2)))
        await engine.shutdown()
    }

    @Test func deletedCursorIsNotResurrectedByAPendingCheckpoint() async throws {
        let fs = SimulatedFileSystem()
        var engine = try await openEngine(fs) { $0.cursorCheckpointInterval = .milliseconds(20) }
        var topic = try await engine.persistentTopic(named: "q")
        _ = try await topic.append([payload("m")])
        let cursor = try await topic.durableCursor(named: "c")
        await cursor.acknowledgeEventually([Position(0)])
        try await topic.deleteCursor(named: "c")
        try await Task.sleep(for: .milliseconds(60))   // past the interval of the pending checkpoint
        await engine.shutdown()
        engine = try await openEngine(fs)
        topic = try await engine.persistentTopic(named: "q")
        #expect(await topic.cursorNames().isEmpty)
        await engine.shutdown()
    }
}
