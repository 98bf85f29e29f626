import CURing
import Glibc
import Synchronization

/// A listening TCP socket whose connections arrive through a multishot accept on `loop`.
///
/// `@unchecked Sendable`: the accept state (`acceptArmed`, `closing`, …) is only touched on
/// `loop`'s thread (`connections()` and `close()` hand their work to it); `socketFaults` is in a
/// `Mutex`; the rest is immutable.
public final class TCPListener: @unchecked Sendable {
    public let loop: RingLoop
    private let group: RingLoopGroup?
    let fd: Int32
    /// The bound port (the ephemeral one when bound to port 0).
    public let localPort: UInt16
    let queue = AcceptQueue()
    private let faults = Mutex(SocketFaults.none)

    // Loop-confined.
    var started = false
    var acceptArmed = false
    var closing = false
    var descriptorClosed = false
    var acceptUserData: UInt64 = 0
    /// Connections accepted so far (each gets `socketFaults.forConnection(acceptedCount)`).
    var acceptedCount: UInt64 = 0

    private init(fd: Int32, port: UInt16, loop: RingLoop, group: RingLoopGroup?) {
        self.fd = fd
        self.localPort = port
        self.loop = loop
        self.group = group
    }

    /// Binds and listens on `host:port` (IPv4 or IPv6 literal; port 0 picks an ephemeral port).
    /// Accepted connections run on `loop`.
    public static func bind(host: String, port: UInt16, backlog: Int32 = 1024, on loop: RingLoop) throws(IOError)
        -> TCPListener
    {
        try Self.bind(host: host, port: port, backlog: backlog, loop: loop, group: nil)
    }

    /// Binds like `bind(host:port:backlog:on:)`; accepts on one loop of `group` and assigns accepted
    /// connections to the group's loops round-robin.
    public static func bind(host: String, port: UInt16, backlog: Int32 = 1024, group: RingLoopGroup) throws(IOError)
        -> TCPListener
    {
        try Self.bind(host: host, port: port, backlog: backlog, loop: group.next(), group: group)
    }

    private static func bind(host: String, port: UInt16, backlog: Int32, loop: RingLoop, group: RingLoopGroup?)
        throws(IOError) -> TCPListener
    {
        let address = try SocketAddress(host: host, port: port)
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError.lastError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockaddr { Glibc.bind(fd, $0, $1) }
        guard bound == 0 else {
            let error = IOError.lastError("bind \(host):\(port)")
            Glibc.close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = IOError.lastError("listen")
            Glibc.close(fd)
            throw error
        }
        let localPort = SocketAddress.of(socket: fd, peer: false)?.port ?? port
        return TCPListener(fd: fd, port: localPort, loop: loop, group: group)
    }

    deinit {
        if !self.descriptorClosed { Glibc.close(self.fd) }
    }

    /// Faults applied to connections accepted from now on (off by default); each connection gets
    /// `forConnection(n)` of them, n counting accepted connections.
    public var socketFaults: SocketFaults {
        get { self.faults.withLock { $0 } }
        set { self.faults.withLock { $0 = newValue } }
    }

    /// The accepted connections; the sequence ends after `close()`. Starts accepting.
    public func connections() -> Connections {
        self.loop.execute { self.startAccepting() }
        return Connections(queue: self.queue)
    }

    /// Stops accepting: cancels the multishot accept, closes the socket after its final CQE, then
    /// ends `connections()`.
    public func close() {
        self.loop.execute {
            guard !self.closing else { return }
            self.closing = true
            if self.acceptArmed {
                self.loop.cancel(self.acceptUserData)
            } else {
                self.finishClose()
            }
        }
    }

    private func startAccepting() {
        guard !self.started, !self.closing else { return }
        self.started = true
        guard !self.loop.stopping else {
            self.finishClose()
            return
        }
        self.armAccept()
    }

    private func armAccept() {
        let fd = self.fd
        self.acceptArmed = true
        self.acceptUserData = self.loop.submit({ sqe in
            io_uring_prep_multishot_accept(sqe, fd, nil, nil, Int32(SOCK_CLOEXEC.rawValue))
        }) { result, flags in
            self.acceptCompleted(result, flags)
        }
    }

    private func acceptCompleted(_ result: Int32, _ flags: UInt32) {
        let final = flags & aop_IORING_CQE_F_MORE == 0
        if final { self.acceptArmed = false }
        if result >= 0 {
            self.accepted(result)
        }
        guard final else { return }
        if self.closing || self.loop.stopping {
            self.finishClose()
        } else if result == -EMFILE || result == -ENFILE || result == -ENOBUFS || result == -ENOMEM {
            // Out of descriptors or memory: retry later instead of spinning.
            self.loop.schedule(after: .milliseconds(100)) {
                if !self.closing, !self.acceptArmed, !self.loop.stopping { self.armAccept() }
            }
        } else {
            self.armAccept()
        }
    }

    private func accepted(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let loop = self.group?.next() ?? self.loop
        let connection = TCPConnection(fd: fd, loop: loop, faults: self.socketFaults.forConnection(self.acceptedCount))
        self.acceptedCount &+= 1
        if self.closing || !self.queue.push(connection) {
            // Nobody will take it: the connection's deinit closes the descriptor.
            return
        }
    }

    private func finishClose() {
        if !self.descriptorClosed {
            self.descriptorClosed = true
            Glibc.close(self.fd)
        }
        self.queue.finish()
    }
}

extension TCPListener {
    /// Accepted connections, in accept order. One consumer at a time.
    public struct Connections: AsyncSequence, Sendable {
        public typealias Element = TCPConnection
        public typealias Failure = Never
        let queue: AcceptQueue

        public struct AsyncIterator: AsyncIteratorProtocol {
            public typealias Element = TCPConnection
            public typealias Failure = Never
            let queue: AcceptQueue

            public mutating func next() async -> TCPConnection? {
                await self.queue.next(isolation: nil)
            }

            public mutating func next(isolation actor: isolated (any Actor)?) async -> TCPConnection? {
                await self.queue.next(isolation: actor)
            }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(queue: self.queue)
        }
    }
}
