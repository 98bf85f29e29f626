import AOPBroker
import AOPIO
import AOPStorage
import Glibc
import Logging
import Testing

/// A message and its index entries are made durable by one commit round. A crash in that round can keep
/// an index entry whose message was lost; its position is reused by the next append, so the entry must be
/// dropped at start, or the new message would be delivered twice.
@Suite struct StaleIndexTests {
    @Test func indexEntryWhoseMessageWasNotDurableIsDroppedAtStart() async throws {
        let dir = "/tmp/aop-stale-index-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { Self.removeTree(dir) }
        do {
            let storage = try await DiskStorageEngine(directory: dir, fileSystem: PosixFileSystem())
            let v = VirtualHost(name: "/", storage: storage, logger: Logger(label: "test"))
            try await v.start()
            try await v.declare("q", durable: true)
            #expect(try await v.send("", [message("a", key: "q", persistent: true),
                                          message("b", key: "q", persistent: true)]) == [.routed, .routed])
            await storage.shutdown()
        }
        do {
            // What that crash leaves: an index entry pointing at the message topic's end (position 2).
            let storage = try await DiskStorageEngine(directory: dir, fileSystem: PosixFileSystem())
            let messages = try await storage.topic(named: "exchange./.", kind: .persistent)
            let end = await messages.endPosition()
            #expect(end == Position(2))
            let index = try await storage.topic(named: "queue./.q", kind: .persistent)
            var stale = try #require(try await index.read(from: .zero, limit: 1).first).payload
            // Index entry layout: version u8, topic id u32, message position u64 (big-endian), ...
            for i in 0..<8 { stale[5 + i] = UInt8(truncatingIfNeeded: end.raw >> UInt64(56 - 8 * i)) }
            _ = try await index.append([stale])
            await storage.shutdown()
        }
        let storage = try await DiskStorageEngine(directory: dir, fileSystem: PosixFileSystem())
        let v = VirtualHost(name: "/", storage: storage, logger: Logger(label: "test"))
        try await v.start()
        #expect(try await v.messageCount("q") == 2)
        // The next message takes position 2, where the stale entry points.
        #expect(try await v.send("", [message("c", key: "q", persistent: true)]) == [.routed])
        #expect(try await v.drain("q") == ["a", "b", "c"])
        await storage.shutdown()
    }

    private static func removeTree(_ path: String) {
        let fs = PosixFileSystem()
        for name in (try? fs.listDirectory(path: path)) ?? [] { Self.removeTree(path + "/" + name) }
        try? fs.remove(path: path)
    }
}
