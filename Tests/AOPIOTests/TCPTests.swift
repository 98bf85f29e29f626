import Glibc
import Synchronization
import Testing
@testable import AOPIO

@Suite struct TCPTests {
    @Test func echoesManyFramesThroughPinnedActor() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            #expect(listener.localPort != 0)
            var payload: [UInt8] = []
            for frame in 0..<2000 {
                let size = 1 + frame % 200
                payload += [UInt8(size >> 8), UInt8(size & 0xFF)] + (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ frame) }
            }
            let sent = payload
            let port = listener.localPort
            async let echoed = onThread { () -> [UInt8] in
                let client = BlockingClient(port: port)
                defer { client.close() }
                let writer = ThreadStart { client.send(sent); client.shutdownWrite() }
                var thread = pthread_t()
                let context = Unmanaged.passRetained(writer).toOpaque()
                pthread_create(&thread, nil, { Unmanaged<ThreadStart>.fromOpaque($0!).takeRetainedValue().body(); return nil }, context)
                let received = client.receiveToEnd()
                pthread_join(thread, nil)
                return received
            }
            let connection = try #require(await acceptOne(listener))
            #expect(connection.loop === loop)
            #expect(connection.isLoopback)
            #expect(connection.remoteAddress.hasPrefix("127.0.0.1:"))
            let total = try await PinnedConnection(connection).echo()
            #expect(total == sent.count)
            #expect(await echoed == sent)
        }
    }

    @Test func writesOfOneIterationAreCoalescedIntoOneSend() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let port = listener.localPort
            async let received = onThread { () -> [UInt8] in
                let client = BlockingClient(port: port)
                defer { client.close() }
                return client.receive(count: 300)
            }
            let pinned = PinnedConnection(try #require(await acceptOne(listener)))
            await pinned.write([1, 2, 3], times: 100)
            await pinned.waitUntilWritable(1)
            #expect(await pinned.sendSubmissions() == 1)
            #expect(await received == [UInt8](repeating: 0, count: 100).flatMap { _ in [1, 2, 3] as [UInt8] })
            await pinned.close()
        }
    }

    @Test func receiveResumptionsStayOnTheRing() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let port = listener.localPort
            // Ping-pong: every round suspends receive() and resumes it from a CQE.
            let client = Task { await onThread { () -> Int in
                let client = BlockingClient(port: port)
                defer { client.close() }
                var done = 0
                for round in 0..<200 {
                    client.send([UInt8(truncatingIfNeeded: round)])
                    if client.receive(count: 1) == [UInt8(truncatingIfNeeded: round)] { done += 1 }
                }
                client.shutdownWrite()
                _ = client.receiveToEnd()
                return done
            } }
            let pinned = PinnedConnection(try #require(await acceptOne(listener)))
            let echo = Task { try await pinned.echo() }
            let rounds = await client.value
            #expect(rounds == 200)
            #expect(try await echo.value == 200)
            // A hop through another executor per resumption would enqueue ~200 jobs from other threads.
            #expect(loop.remoteEnqueueCount < 20)
        }
    }

    @Test func detectsEndOfFile() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let port = listener.localPort
            async let done: Void = onThread {
                let client = BlockingClient(port: port)
                client.send([9, 8, 7])
                client.close()
            }
            let pinned = PinnedConnection(try #require(await acceptOne(listener)))
            await done
            let (chunks, error) = await pinned.drain()
            #expect(chunks.flatMap { $0 } == [9, 8, 7])
            #expect(error == nil)
            await pinned.close()
        }
    }

    @Test func detectsReset() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let port = listener.localPort
            let pinnedTask = Task { () -> (chunks: [[UInt8]], error: IOError?) in
                let pinned = PinnedConnection(await acceptOne(listener)!)
                _ = try? await pinned.receiveOne()
                let result = await pinned.drain()
                await pinned.close()
                return result
            }
            await onThread {
                let client = BlockingClient(port: port)
                client.send([1])
                usleep(50_000)
                client.reset()
            }
            let (_, error) = await pinnedTask.value
            #expect(error?.errno == ECONNRESET)
        }
    }

    @Test func nonReadingClientMakesWriterWait() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let client = await onThread { BlockingClient(port: listener.localPort) }
            let pinned = PinnedConnection(try #require(await acceptOne(listener)))
            let chunk = [UInt8](repeating: 0x5A, count: 64 * 1024)
            // Far more than the socket buffers hold: output must pile up in pendingOutboundBytes.
            await pinned.write(chunk, times: 200)
            try await loop.sleep(for: .milliseconds(100))
            let pending = await pinned.pending()
            #expect(pending > 1 << 20)
            let waiter = Task { await pinned.waitUntilWritable(64 * 1024) }
            try await loop.sleep(for: .milliseconds(50))
            #expect(await pinned.pending() >= 64 * 1024)  // still stuck, so the waiter is suspended
            let received = await onThread { client.receive(count: 200 * 64 * 1024) }
            await waiter.value
            #expect(received.count == 200 * 64 * 1024)
            #expect(await pinned.pending() < 64 * 1024)
            await pinned.close()
            client.close()
        }
    }

    @Test func receiveStopsWhenInboundBufferIsFull() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let port = listener.localPort
            let total = 32 << 20
            let sender = Task {
                await onThread { () -> Bool in
                    let client = BlockingClient(port: port)
                    defer { client.close() }
                    return client.send([UInt8](repeating: 1, count: total))
                }
            }
            let pinned = PinnedConnection(try #require(await acceptOne(listener)))
            _ = try await pinned.receiveOne()  // arms the receive
            // Wait (up to 20 s on a loaded machine) until the 1 MiB limit is reached, then give the
            // sender time to push more: nothing may arrive once the limit is reached.
            var waited = 0
            while await pinned.buffered() < 1 << 20, waited < 2000 {
                try await loop.sleep(for: .milliseconds(10))
                waited += 1
            }
            try await loop.sleep(for: .milliseconds(200))
            let buffered = await pinned.buffered()
            #expect(buffered >= 1 << 20)
            // A recv is armed only below the 1 MiB limit and brings at most one provided buffer (16 KiB).
            #expect(buffered < (1 << 20) + 16 * 1024)
            // Reading resumes the flow: everything arrives.
            var received = 0
            while received < total - 4 << 20 {
                guard let chunk = try await pinned.receiveOne() else { break }
                received += chunk.count
            }
            #expect(received >= total - 4 << 20)
            await pinned.close()
            _ = await sender.value
        }
    }

    @Test func listenerCloseEndsTheSequence() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            let accepted = AcceptCounter()
            let connections = Task { () -> Int in
                var count = 0
                for await connection in listener.connections() {
                    count += 1
                    accepted.value.add(1, ordering: .relaxed)
                    loop.execute { connection.close() }
                }
                return count
            }
            let port = listener.localPort
            await onThread {
                for _ in 0..<3 { BlockingClient(port: port).close() }
            }
            // Close the listener once the three arrived (a fixed sleep was too short on a loaded machine).
            var waited = 0
            while accepted.value.load(ordering: .relaxed) < 3, waited < 1000 {
                try await loop.sleep(for: .milliseconds(10))
                waited += 1
            }
            listener.close()
            #expect(await connections.value == 3)
        }
    }

    @Test func acceptsOnIPv6AndSpreadsOverGroup() async throws {
        let group = try RingLoopGroup(loops: 2, namePrefix: "test-tcp")
        defer { group.shutdown() }
        let bound = Result { () throws(IOError) -> TCPListener in try TCPListener.bind(host: "::1", port: 0, group: group) }
        if case .failure(let error) = bound, error.errno == EADDRNOTAVAIL || error.errno == EAFNOSUPPORT {
            return  // no IPv6 loopback in this environment
        }
        let listener = try bound.get()
        defer { listener.close() }
        let port = listener.localPort
        var iterator = listener.connections().makeAsyncIterator()
        let clients = await onThread { [BlockingClient(port: port, host: "::1"), BlockingClient(port: port, host: "::1")] }
        let first = try #require(await iterator.next())
        let second = try #require(await iterator.next())
        #expect(first.loop !== second.loop)
        #expect(first.isLoopback)
        #expect(first.remoteAddress.hasPrefix("[::1]:"))
        first.loop.execute { first.close() }
        second.loop.execute { second.close() }
        for client in clients { client.close() }
    }

    @Test func injectedShortReadsAndReset() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            listener.socketFaults = SocketFaults(maxReadPiece: 7, emptyWakeupProbability: 0.2, resetAfterBytes: 1000)
            let port = listener.localPort
            let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0) }
            async let peerSawReset = onThread { () -> Bool in
                let client = BlockingClient(port: port)
                defer { client.close() }
                client.send(bytes)
                return client.receiveToEnd().isEmpty
            }
            let pinned = PinnedConnection(try #require(await acceptOne(listener)))
            let (chunks, error) = await pinned.drain()
            #expect(chunks.allSatisfy { $0.count <= 7 })
            #expect(chunks.contains { $0.isEmpty })
            #expect(chunks.flatMap { $0 } == Array(bytes.prefix(1000)))
            #expect(error?.errno == ECONNRESET)
            #expect(await peerSawReset)
        }
    }

    @Test func bindRejectsNames() throws {
        let loop = try RingLoop(name: "test-bind", entries: 8)
        defer { loop.shutdown() }
        #expect(throws: IOError.self) { try TCPListener.bind(host: "localhost", port: 0, on: loop) }
    }

    @Test func shutdownCancelsOperationsInFlight() async throws {
        let loop = try RingLoop(name: "test-stop", entries: 64)
        let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
        let client = await onThread { BlockingClient(port: listener.localPort) }
        defer { client.close() }
        let connection = try #require(await acceptOne(listener))
        // Arm the connection's recv, then close it: shutdown must also cope with a cancelled op whose
        // final CQE is still due. (A task suspended in receive() across shutdown is not covered: its
        // resumption can arrive after the loop exited; close connections before shutting down.)
        loop.execute { connection.armReceiveIfNeeded() }
        let sleeping = Task { () async -> Bool in
            do {
                try await loop.sleep(for: .seconds(60))
                return false
            } catch {
                return error is CancellationError
            }
        }
        // Wait until accept, recv and timeout are all in flight, then close the connection.
        while await Task(executorPreference: loop, operation: { loop.completions.activeCount }).value < 3 {
            try await Task.sleep(for: .milliseconds(5))
        }
        loop.execute { connection.close() }
        await onThread { loop.shutdown() }
        #expect(await sleeping.value)
        #expect(connection.fd == -1)  // closed after its recv's final CQE
        let connections = listener.connections()
        for await _ in connections { Issue.record("listener accepted after shutdown") }
        // Operations started after shutdown fail instead of hanging.
        await #expect(throws: CancellationError.self) { try await loop.sleep(for: .seconds(60)) }
    }
}

/// Connections seen by the accepting task (read by the test while that task runs).
final class AcceptCounter: Sendable {
    let value = Atomic<Int>(0)
}
