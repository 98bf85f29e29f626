import Glibc
import Testing
import AOPIO

/// Server CPU per echoed frame (frames parsed, one `write` per frame) (SWIFT-IO-FACTS §3 style). Not a unit test: runs only with
/// `AOPIO_BENCH=1`, prints the figure, asserts nothing about speed. Run it on a release build:
/// `swift build -c release --build-tests -Xswiftc -enable-testing` then
/// `AOPIO_BENCH=1 .build/release/aopPackageTests.xctest --testing-library swift-testing --filter EchoCost`.
@Suite(.serialized) struct EchoCostBenchmark {
    static let enabled = getenv("AOPIO_BENCH") != nil

    /// Echoes chunks from an actor on the loop; returns the loop thread's CPU nanoseconds used.
    actor Echo {
        let connection: TCPConnection
        nonisolated var unownedExecutor: UnownedSerialExecutor { self.connection.loop.asUnownedSerialExecutor() }
        init(_ connection: TCPConnection) { self.connection = connection }

        func run() async throws(IOError) -> Int {
            let start = Self.threadCPU()
            var carry: [UInt8] = []
            while let chunk = try await self.connection.receive() {
                // One write per frame, as a broker writes one frame per delivery.
                carry += chunk
                var offset = 0
                carry.withUnsafeBytes { bytes in
                    while bytes.count - offset >= 4 {
                        let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
                        guard bytes.count - offset >= 4 + length else { break }
                        self.connection.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 4 + length)]))
                        offset += 4 + length
                    }
                }
                carry.removeFirst(offset)
                await self.connection.waitUntilWritable(threshold: 4 << 20)
            }
            await self.connection.flushAndClose()
            return Self.threadCPU() - start
        }

        static func threadCPU() -> Int {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return time.tv_sec * 1_000_000_000 + time.tv_nsec
        }
    }

    @Test(.enabled(if: enabled), arguments: [16, 1024])
    func echoCostPerFrame(payload: Int) async throws {
        let loop = try RingLoop(name: "bench-ring")
        defer { loop.shutdown() }
        let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, on: loop)
        defer { listener.close() }
        let frames = payload == 16 ? 4_000_000 : 500_000
        let frameSize = 4 + payload
        let port = listener.localPort
        let client = Task {
            await onThread { () -> Int in
                let client = BlockingClient(port: port)
                defer { client.close() }
                var batch: [UInt8] = []
                for _ in 0..<128 {
                    batch += [0, 0, UInt8(payload >> 8), UInt8(payload & 0xFF)] + [UInt8](repeating: 7, count: payload)
                }
                let frameBatch = batch
                let writer = ThreadStart {
                    for _ in 0..<(frames / 128) { client.send(frameBatch) }
                    client.shutdownWrite()
                }
                var thread = pthread_t()
                pthread_create(&thread, nil, { Unmanaged<ThreadStart>.fromOpaque($0!).takeRetainedValue().body(); return nil },
                               Unmanaged.passRetained(writer).toOpaque())
                let received = client.receiveToEnd().count
                pthread_join(thread, nil)
                return received
            }
        }
        var iterator = listener.connections().makeAsyncIterator()
        let connection = try #require(await iterator.next())
        let clock = ContinuousClock()
        let start = clock.now
        let cpu = try await Echo(connection).run()
        let wall = clock.now - start
        let received = await client.value
        #expect(received == frames / 128 * 128 * frameSize)
        let line = "echo \(payload) B: \(frames) frames, server CPU \(cpu / frames) ns/frame, wall \(wall)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}
