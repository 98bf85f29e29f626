import Glibc
import Testing
@testable import AOPIO

@Suite struct SocketFaultsTests {
    @Test func parsesEveryKey() throws {
        let faults = try SocketFaults(spec: "seed=0x2a, read=13,write=17,eagain=0.05,reset=0.25,reset-bytes=200-20000")
        #expect(faults.seed == 42)
        #expect(faults.maxReadPiece == 13)
        #expect(faults.maxWritePiece == 17)
        #expect(faults.emptyWakeupProbability == 0.05)
        #expect(faults.sendEAGAINProbability == 0.05)
        #expect(faults.resetProbability == 0.25)
        #expect(faults.resetWindow == 200...20000)
        #expect(faults.isActive)
        #expect(try SocketFaults(spec: "reset-bytes=500").resetWindow == 500...500)
        #expect(try SocketFaults(spec: "") == .none)
        #expect(!(try SocketFaults(spec: "seed=3").isActive))
    }

    @Test(arguments: ["read=0", "eagain=1", "reset=2", "reset-bytes=9-3", "bogus=1", "read", "seed=x"])
    func rejectsBadPairs(_ spec: String) {
        #expect(throws: SocketFaults.SpecError.self) { try SocketFaults(spec: spec) }
    }

    @Test func perConnectionFaultsAreSeededAndResetAtTheRequestedRate() throws {
        let faults = try SocketFaults(spec: "seed=9,read=5,reset=0.3,reset-bytes=100-199")
        #expect(faults.forConnection(7) == faults.forConnection(7))
        let all = (0..<2000).map { faults.forConnection(UInt64($0)) }
        #expect(Set(all.map(\.seed)).count == all.count)
        let resets = all.compactMap(\.resetAfterBytes)
        #expect(resets.allSatisfy { (100...199).contains($0) })
        #expect((450...750).contains(resets.count))  // 2000 × 0.3 = 600
        #expect(SocketFaults.none.forConnection(3) == .none)
        // An explicit reset point is kept.
        let fixed = SocketFaults(resetAfterBytes: 10, seed: 1)
        #expect(fixed.forConnection(5).resetAfterBytes == 10)
    }

    @Test func shortWritesAndSendEAGAINKeepTheByteStream() async throws {
        try await withLoop { loop in
            let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            listener.socketFaults = SocketFaults(maxWritePiece: 13, sendEAGAINProbability: 0.3, seed: 5)
            let port = listener.localPort
            let chunk = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
            async let received = onThread { () -> [UInt8] in
                let client = BlockingClient(port: port)
                defer { client.close() }
                return client.receive(count: chunk.count * 20)
            }
            let pinned = PinnedConnection(try #require(await acceptOne(listener)))
            await pinned.write(chunk, times: 20)
            await pinned.waitUntilWritable(1)
            #expect(await received == Array((0..<20).map { _ in chunk }.joined()))
            // At most 13 bytes per send: at least 20000 / 13 sends were submitted.
            #expect(await pinned.sendSubmissions() >= 20_000 / 13)
            await pinned.close()
        }
    }
}
