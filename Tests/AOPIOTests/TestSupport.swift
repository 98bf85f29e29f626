import Glibc
@testable import AOPIO

/// Runs `body` on a fresh pthread (blocking socket calls must not tie up the cooperative pool).
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let start = ThreadStart { continuation.resume(returning: body()) }
        let context = Unmanaged.passRetained(start).toOpaque()
        var thread = pthread_t()
        let ret = pthread_create(
            &thread, nil,
            { context in
                Unmanaged<ThreadStart>.fromOpaque(context!).takeRetainedValue().body()
                return nil
            }, context)
        precondition(ret == 0, "pthread_create failed")
        pthread_detach(thread)
    }
}

final class ThreadStart: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// A blocking POSIX client socket for tests.
struct BlockingClient: Sendable {
    let fd: Int32

    init(port: UInt16, host: String = "127.0.0.1") {
        let v6 = host.contains(":")
        self.fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(self.fd >= 0)
        var ret: Int32
        if v6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            inet_pton(AF_INET6, host, &address.sin6_addr)
            ret = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            inet_pton(AF_INET, host, &address.sin_addr)
            ret = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        precondition(ret == 0, "connect failed: errno \(errno)")
    }

    /// Sends everything; false if the connection broke.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(self.fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            done += sent
        }
        return true
    }

    /// Receives exactly `count` bytes (fewer at EOF or error).
    func receive(count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress! + done, count - done, 0) }
            if got <= 0 { break }
            done += got
        }
        return Array(bytes.prefix(done))
    }

    /// Receives until EOF; returns the bytes.
    func receiveToEnd() -> [UInt8] {
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress!, $0.count, 0) }
            if got <= 0 { return all }
            all.append(contentsOf: chunk.prefix(got))
        }
    }

    func setReceiveBuffer(_ bytes: Int32) {
        var value = bytes
        setsockopt(self.fd, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    func shutdownWrite() { Glibc.shutdown(self.fd, Int32(SHUT_WR)) }

    func close() { Glibc.close(self.fd) }

    /// Closes with an RST.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Glibc.close(self.fd)
    }
}

/// An actor pinned to a connection's loop, as the broker's connection actor will be.
actor PinnedConnection {
    let connection: TCPConnection
    nonisolated var unownedExecutor: UnownedSerialExecutor { self.connection.loop.asUnownedSerialExecutor() }

    init(_ connection: TCPConnection) { self.connection = connection }

    /// Echoes until EOF; returns the byte count. Checks isolation after every await.
    func echo() async throws(IOError) -> Int {
        var total = 0
        while let chunk = try await self.connection.receive() {
            self.connection.loop.checkIsolated()
            self.connection.write(chunk)
            total += chunk.count
        }
        await self.connection.flushAndClose()
        return total
    }

    /// Receives until EOF or error; returns the chunks and the error.
    func drain() async -> (chunks: [[UInt8]], error: IOError?) {
        var chunks: [[UInt8]] = []
        do {
            while let chunk = try await self.connection.receive() { chunks.append(chunk) }
            return (chunks, nil)
        } catch {
            return (chunks, error)
        }
    }

    func receiveOne() async throws(IOError) -> [UInt8]? { try await self.connection.receive() }

    func write(_ bytes: [UInt8], times: Int) {
        for _ in 0..<times { self.connection.write(bytes) }
    }

    func waitUntilWritable(_ threshold: Int) async { await self.connection.waitUntilWritable(threshold: threshold) }

    /// Waits through `whenReadable` (no task suspended in `receive()`); true if the handler ran on the loop.
    func waitUntilReadable() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            self.connection.whenReadable { continuation.resume(returning: self.connection.loop.isCurrent) }
        }
    }

    /// Registers a `whenReadable` handler; true if it ran before `whenReadable` returned.
    func whenReadableRunsAtOnce() -> Bool {
        var ran = false
        self.connection.whenReadable { ran = true }
        return ran
    }

    func isReadable() -> Bool { self.connection.isReadable }
    func interruptReceive() { self.connection.interruptReceive() }
    func pending() -> Int { self.connection.pendingOutboundBytes }
    func buffered() -> Int { self.connection.bufferedInboundBytes }
    func sendSubmissions() -> Int { self.connection.sendSubmissions }
    func isOnLoop() -> Bool { self.connection.loop.isCurrent }
    func close() { self.connection.close() }
}

/// Starts a loop, runs `body`, shuts the loop down.
func withLoop<T>(_ body: (RingLoop) async throws -> T) async throws -> T {
    let loop = try RingLoop(name: "test-ring", entries: 256)
    defer { loop.shutdown() }
    return try await body(loop)
}

/// A listener on 127.0.0.1:0 and the first accepted connection for a client that connects.
func acceptOne(_ listener: TCPListener) async -> TCPConnection? {
    var iterator = listener.connections().makeAsyncIterator()
    return await iterator.next()
}
