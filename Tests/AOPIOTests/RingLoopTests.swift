import Glibc
import Testing
@testable import AOPIO

actor LoopPinned {
    let loop: RingLoop
    var counter = 0
    nonisolated var unownedExecutor: UnownedSerialExecutor { self.loop.asUnownedSerialExecutor() }
    init(_ loop: RingLoop) { self.loop = loop }

    func increment() -> (Bool, Int) {
        self.loop.checkIsolated()
        self.counter += 1
        return (self.loop.isCurrent, self.counter)
    }

    func sleepThenCheck() async throws -> Bool {
        try await self.loop.sleep(for: .milliseconds(5))
        try await self.loop.sleep(for: .milliseconds(1))
        self.loop.checkIsolated()
        return self.loop.isCurrent
    }
}

@Suite struct RingLoopTests {
    @Test func probeSucceedsHere() throws {
        try RingLoop.probe()
    }

    @Test func pinnedActorRunsOnLoopThread() async throws {
        try await withLoop { loop in
            #expect(!loop.isCurrent)
            let actor = LoopPinned(loop)
            let (onLoop, count) = await actor.increment()
            #expect(onLoop)
            #expect(count == 1)
            let stillOnLoop = try await actor.sleepThenCheck()
            #expect(stillOnLoop)
        }
    }

    @Test func crossThreadEnqueueWakesTheLoop() async throws {
        try await withLoop { loop in
            let actor = LoopPinned(loop)
            // Many hops from pool threads while the loop sleeps in io_uring_enter between them.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        for _ in 0..<50 {
                            let (onLoop, _) = await actor.increment()
                            #expect(onLoop)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await actor.increment().1 == 201)
        }
    }

    @Test func taskExecutorPreferenceRunsOnLoop() async throws {
        try await withLoop { loop in
            let onLoop = await Task(executorPreference: loop) { () async -> Bool in
                await Task.yield()
                return loop.isCurrent
            }.value
            #expect(onLoop)
        }
    }

    @Test func timerFires() async throws {
        try await withLoop { loop in
            let clock = ContinuousClock()
            let start = clock.now
            try await loop.sleep(for: .milliseconds(30))
            #expect(clock.now - start >= .milliseconds(30))
        }
    }

    @Test func timerCancels() async throws {
        try await withLoop { loop in
            let clock = ContinuousClock()
            let start = clock.now
            let task = Task { () async -> Bool in
                do {
                    try await loop.sleep(for: .seconds(30))
                    return false
                } catch is CancellationError {
                    return true
                } catch {
                    return false
                }
            }
            try await Task.sleep(for: .milliseconds(20))
            task.cancel()
            #expect(await task.value)
            #expect(clock.now - start < .seconds(10))
        }
    }

    @Test func timerCancelledBeforeStartThrows() async throws {
        try await withLoop { loop in
            let task = Task { () async -> Bool in
                withUnsafeCurrentTask { $0?.cancel() }
                do {
                    try await loop.sleep(for: .seconds(30))
                    return false
                } catch {
                    return error is CancellationError
                }
            }
            #expect(await task.value)
        }
    }

    @Test func groupHandsOutLoopsRoundRobin() throws {
        let group = try RingLoopGroup(loops: 2, namePrefix: "test-group")
        defer { group.shutdown() }
        let first = group.next()
        let second = group.next()
        #expect(first !== second)
        #expect(group.next() === first)
        #expect(group.loops.count == 2)
    }
}
