import Glibc
import Testing
@testable import AOPIO

/// `whenReadable` (waiting for input without a task in `receive()`) and `interruptReceive`.
@Suite struct TCPReadinessTests {
    @Test func whenReadableFiresOnDataAndLeavesTheBytesForReceive() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let port = listener.localPort
            let client = Task {
                await onThread { () -> BlockingClient in
                    let client = BlockingClient(port: port)
                    usleep(50_000)  // the server side waits first
                    client.send([1, 2, 3])
                    return client
                }
            }
            let pinned = PinnedConnection(try #require(await acceptOne(listener)))
            #expect(await pinned.isReadable() == false)
            #expect(await pinned.waitUntilReadable())  // handler ran, on the loop thread
            #expect(await pinned.isReadable())
            #expect(try await pinned.receiveOne() == [1, 2, 3])
            #expect(await pinned.isReadable() == false)
            // Already readable: the handler runs before whenReadable returns.
            let sender = await client.value
            sender.send([4])
            #expect(await pinned.waitUntilReadable())
            #expect(await pinned.whenReadableRunsAtOnce())
            #expect(try await pinned.receiveOne() == [4])
            sender.close()
            await pinned.close()
        }
    }

    @Test func whenReadableFiresAtEndOfInput() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let port = listener.localPort
            let client = Task {
                await onThread {
                    let client = BlockingClient(port: port)
                    usleep(50_000)
                    client.close()
                }
            }
            let pinned = PinnedConnection(try #require(await acceptOne(listener)))
            #expect(await pinned.waitUntilReadable())
            #expect(try await pinned.receiveOne() == nil)
            await client.value
            await pinned.close()
        }
    }

    @Test func whenReadableFiresWhenTheOwnerCloses() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let port = listener.localPort
            let client = Task { await onThread { BlockingClient(port: port) } }
            let pinned = PinnedConnection(try #require(await acceptOne(listener)))
            let waiter = Task { await pinned.waitUntilReadable() }
            try await loop.sleep(for: .milliseconds(50))
            await pinned.close()
            #expect(await waiter.value)
            #expect(try await pinned.receiveOne() == nil)
            (await client.value).close()
        }
    }

    @Test func interruptReceiveReturnsAnEmptyChunk() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let port = listener.localPort
            let client = Task { await onThread { BlockingClient(port: port) } }
            let pinned = PinnedConnection(try #require(await acceptOne(listener)))
            let receiver = Task { try await pinned.receiveOne() }
            try await loop.sleep(for: .milliseconds(50))
            await pinned.interruptReceive()
            #expect(try await receiver.value == [])
            // The connection still works afterwards.
            let sender = await client.value
            sender.send([7])
            #expect(try await pinned.receiveOne() == [7])
            sender.close()
            await pinned.close()
        }
    }
}
