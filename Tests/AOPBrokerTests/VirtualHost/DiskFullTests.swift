import Testing
import AOPBroker
import AOPIO
import AOPStorage
import Glibc
import Logging

/// ENOSPC from storage: publishes that could not be stored are reported `.noSpace` (nacked), and the
/// broker's disk alarm is raised and cleared when space is available again.
@Suite struct DiskFullTests {
    private static func directory(_ name: String) -> String {
        "/tmp/aop-diskfull-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max))"
    }

    @Test func appendsFailingWithENOSPCAreReportedNoSpaceAndRecover() async throws {
        let faults = FileFaults()
        let fs = FaultInjectingFileSystem(wrapping: PosixFileSystem(), faults: faults)
        let dir = Self.directory("publish")
        let storage = try await DiskStorageEngine(directory: dir, fileSystem: fs)
        let vhost = VirtualHost(name: "/", storage: storage, logger: Logger(label: "test"))
        try await vhost.start()
        try await vhost.declare("q", durable: true)
        #expect(try await vhost.send("", [message("a", key: "q", persistent: true)]) == [.routed])
        faults.update { $0.noSpace = true }
        #expect(try await vhost.send("", [message("b", key: "q", persistent: true),
                                          message("c", key: "q", persistent: true)]) == [.noSpace, .noSpace])
        faults.update { $0.noSpace = false }
        #expect(try await vhost.send("", [message("d", key: "q", persistent: true)]) == [.routed])
        #expect(try await vhost.drain("q") == ["a", "d"])
        await storage.shutdown()
    }

    @Test func diskAlarmIsRaisedAndClearedWhenSpaceIsAvailable() async throws {
        let dir = Self.directory("alarm")
        let storage = try await DiskStorageEngine(directory: dir, fileSystem: PosixFileSystem())
        let free = await storage.availableBytes()
        #expect(free.map { $0 > 0 } == true)
        let broker = Broker(configuration: BrokerConfiguration(), storage: storage, logger: Logger(label: "test"))
        await broker.storageFull()
        #expect(broker.alarms.isActive("disk"))
        #expect(broker.alarms.isBlocked)
        // /tmp has space: the probe clears the alarm within a few intervals.
        await waitUntil { !broker.alarms.isActive("disk") }
        #expect(!broker.alarms.isActive("disk"))
        await storage.shutdown()
    }
}
