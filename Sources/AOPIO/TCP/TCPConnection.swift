import CURing
import Glibc

/// An accepted TCP connection driven by one `RingLoop` (ring-confined).
///
/// Everything except the `let` properties must be used on `loop`'s thread, typically from an actor
/// whose `unownedExecutor` is `loop.asUnownedSerialExecutor()`.
///
/// - Receiving: one single-shot recv at a time with a buffer from the loop's provided buffer ring
///   (shared by all connections of the loop); each completion is copied into a `[UInt8]` chunk of
///   exactly the received size and the buffer recycled at once. No recv is armed once
///   `maxBufferedInbound` bytes are buffered, so the socket buffer fills and TCP pushes back on the
///   peer; the buffered bytes never exceed `maxBufferedInbound` plus one provided buffer.
/// - Sending: `write` appends to an outbound buffer; the loop flushes each dirty connection once per
///   iteration with one send (double buffer: `outbound` / `inflight`, partial sends continued). Both
///   are malloc'd on demand and freed after the last send once the owner calls
///   `releaseOutputBuffers()` (idle) or when they outgrew `retainedOutputCapacity`.
/// - Waiting without a task: `whenReadable` calls back once `receive()` would not suspend;
///   `interruptReceive` wakes a waiting `receive()` with an empty chunk.
/// - Closing cancels operations in flight and closes the descriptor only after their final CQEs.
///
/// `@unchecked Sendable`: it is handed from the accepting loop to its own loop once (through the
/// accept queue's lock) and from then on is only touched on its loop thread.
public final class TCPConnection: @unchecked Sendable {
    enum EndOfInput {
        case endOfFile
        case failed(IOError)
    }

    public let loop: RingLoop
    /// The peer, e.g. "127.0.0.1:51234" or "[::1]:51234".
    public let remoteAddress: String
    private let peerIsLoopback: Bool
    var fd: Int32

    // Receive state.
    var inbound: [[UInt8]] = []
    var inboundHead = 0
    var bufferedInbound = 0
    /// Buffered received bytes beyond which no recv is armed (default 1 MiB).
    public var maxBufferedInbound = 1 << 20
    var receiver: UnsafeContinuation<Result<[UInt8]?, IOError>, Never>?
    /// Set by `whenReadable`: called once when `receive()` would not suspend.
    var readableHandler: (() -> Void)?
    var recvArmed = false
    var recvCancelRequested = false
    var recvUserData: UInt64 = 0
    var endOfInput: EndOfInput?

    // Send state.
    var outbound = OutboundBuffer()
    var inflight = OutboundBuffer()
    var inflightOffset = 0
    var sendInFlight = false
    var sendUserData: UInt64 = 0
    var sendFailed = false
    var isDirty = false
    /// Set by `releaseOutputBuffers()` while a send is in flight: free the buffers when it is done.
    var releaseOutputWhenSent = false
    /// Output buffer capacity kept between sends while the owner does not release them.
    static let retainedOutputCapacity = 64 * 1024
    var writers: [(threshold: Int, continuation: UnsafeContinuation<Void, Never>)] = []
    /// Sends submitted for this connection (tests check that writes are coalesced).
    var sendSubmissions = 0

    /// Faults injected into the receive path (off by default).
    public var faults: SocketFaults {
        didSet { self.random = FaultRandom(seed: self.faults.seed) }
    }
    var random: FaultRandom
    var receivedTotal = 0

    /// True once `close()` or `flushAndClose()` ran.
    public private(set) var isClosed = false

    init(fd: Int32, loop: RingLoop, faults: SocketFaults = .none) {
        self.fd = fd
        self.loop = loop
        let peer = SocketAddress.of(socket: fd, peer: true)
        self.remoteAddress = peer?.description ?? "unknown"
        self.peerIsLoopback = peer?.isLoopback ?? false
        self.faults = faults
        self.random = FaultRandom(seed: faults.seed)
    }

    deinit {
        // Operations in flight retain the connection, so none is left here.
        if self.fd >= 0 { Glibc.close(self.fd) }
        self.outbound.deallocate()
        self.inflight.deallocate()
    }

    /// True when the peer is on 127.0.0.0/8 or ::1.
    public var isLoopback: Bool { self.peerIsLoopback }

    /// Closes now: drops unsent output, cancels the recv and send in flight, and closes the
    /// descriptor once their completions arrived. A pending `receive()` returns nil.
    public func close() {
        self.loop.assertOnLoop()
        guard !self.isClosed else { return }
        self.isClosed = true
        if self.recvArmed, !self.recvCancelRequested {
            self.recvCancelRequested = true
            self.loop.cancel(self.recvUserData)
        }
        if self.sendInFlight {
            self.loop.cancel(self.sendUserData)
        }
        self.outbound.clear()
        self.deliverToReceiver()
        self.notifyWriters()
        self.closeDescriptorIfIdle()
    }

    /// Sends what is buffered, then shuts the socket down for writing and closes it.
    public func flushAndClose(isolation: isolated (any Actor)? = #isolation) async {
        await self.waitUntilWritable(threshold: 1)
        guard !self.isClosed else { return }
        if self.fd >= 0, !self.sendFailed {
            Glibc.shutdown(self.fd, Int32(SHUT_WR))
        }
        self.close()
    }

    /// Closes with an RST after an injected reset.
    func abort(_ error: IOError) {
        if self.endOfInput == nil { self.endOfInput = .failed(error) }
        if self.fd >= 0 {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(self.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        self.close()
    }

    func closeDescriptorIfIdle() {
        guard self.isClosed, !self.recvArmed, !self.sendInFlight, self.fd >= 0 else { return }
        Glibc.close(self.fd)
        self.fd = -1
    }
}
