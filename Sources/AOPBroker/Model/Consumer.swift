public import AOPWire
import Synchronization

/// Receives deliveries for consumers on one channel. Implemented by the connection; a queue calls it
/// without awaiting the connection (it enqueues and schedules), so a slow consumer never blocks a queue.
public protocol DeliverySink: AnyObject, Sendable {
    /// Deliveries for consumers of this sink, in queue order. Called from the queue's isolation.
    func deliver(_ batch: [Delivery])
    /// The queue cancelled this consumer (queue deleted): the channel sends basic.cancel when the
    /// client announced consumer_cancel_notify.
    func consumerCancelled(tag: String)
}

/// Credit shared by a channel and the queues its consumers read from.
///
/// Two limits apply to each delivery:
/// - prefetch (basic.qos, RabbitMQ semantics): `global=false` limits unacked deliveries per consumer,
///   `global=true` per channel (shared by its consumers); zero means unlimited. Returned by `settled(_:)`
///   when the client acks, nacks or rejects (never for no-ack consumers).
/// - the transit window: deliveries handed to the connection but not yet written to its socket. Returned
///   by `transmitted(_:)` once written and the socket has drained below its watermark, so a client that
///   stops reading stops its queues instead of growing the broker's memory.
/// A queue calls `tryAcquire` before each delivery and `release` to undo an acquisition it did not use;
/// after credit returns the channel tells the queues (`MessageQueue.creditAvailable()`).
public final class CreditGate: Sendable {
    struct State {
        var consumerLimit: UInt32     // 0 = unlimited
        var consumerUnacked: UInt32
        var channel: ChannelCredit?
        var transitLimit: UInt32      // 0 = unlimited
        var inTransit: UInt32
    }
    let state: Mutex<State>
    /// No-ack consumers hold no prefetch credit (only transit).
    public let unlimited: Bool

    public init(consumerLimit: UInt32, channel: ChannelCredit?, unlimited: Bool, transitWindow: UInt32 = 0) {
        self.state = Mutex(State(consumerLimit: consumerLimit, consumerUnacked: 0, channel: channel,
                                 transitLimit: transitWindow, inTransit: 0))
        self.unlimited = unlimited
    }

    /// Takes up to `wanted` credits; returns how many were granted (0 when the consumer is at a limit).
    public func tryAcquire(_ wanted: Int) -> Int {
        self.state.withLock { s in
            var n = wanted
            if s.transitLimit > 0 { n = min(n, Int(s.transitLimit) - Int(s.inTransit)) }
            n = max(0, n)
            if !self.unlimited {
                if s.consumerLimit > 0 { n = min(n, Int(s.consumerLimit) - Int(s.consumerUnacked)) }
                n = max(0, n)
                if let channel = s.channel { n = channel.tryAcquire(n) }
                s.consumerUnacked += UInt32(n)
            }
            s.inTransit += UInt32(n)
            return n
        }
    }

    /// Undoes `count` acquisitions that were not delivered (both prefetch and transit credit).
    public func release(_ count: Int) {
        guard count > 0 else { return }
        self.state.withLock { s in
            s.inTransit -= min(UInt32(count), s.inTransit)
            if !self.unlimited { Self.settle(&s, count) }
        }
    }

    /// `count` delivered messages were acked, nacked or rejected: returns their prefetch credit.
    public func settled(_ count: Int) {
        guard !self.unlimited, count > 0 else { return }
        self.state.withLock { Self.settle(&$0, count) }
    }

    /// `count` deliveries were written to the socket: returns their transit credit.
    public func transmitted(_ count: Int) {
        guard count > 0 else { return }
        self.state.withLock { $0.inTransit -= min(UInt32(count), $0.inTransit) }
    }

    private static func settle(_ s: inout State, _ count: Int) {
        let n = min(UInt32(count), s.consumerUnacked)
        s.consumerUnacked -= n
        s.channel?.release(Int(n))
    }

    public var hasCredit: Bool {
        self.state.withLock { s in
            if s.transitLimit > 0, s.inTransit >= s.transitLimit { return false }
            if self.unlimited { return true }
            if s.consumerLimit > 0, s.consumerUnacked >= s.consumerLimit { return false }
            return s.channel?.hasCredit ?? true
        }
    }
}

/// The per-channel (global=true) part of prefetch.
public final class ChannelCredit: Sendable {
    let state: Mutex<(limit: UInt32, unacked: UInt32)>
    public init(limit: UInt32) { self.state = Mutex((limit, 0)) }

    public func setLimit(_ limit: UInt32) { self.state.withLock { $0.limit = limit } }

    func tryAcquire(_ wanted: Int) -> Int {
        self.state.withLock { s in
            var n = wanted
            if s.limit > 0 { n = max(0, min(n, Int(s.limit) - Int(s.unacked))) }
            s.unacked += UInt32(n)
            return n
        }
    }
    func release(_ count: Int) { self.state.withLock { $0.unacked -= min(UInt32(count), $0.unacked) } }
    var hasCredit: Bool { self.state.withLock { $0.limit == 0 || $0.unacked < $0.limit } }
}

/// A consumer as a queue sees it.
public struct ConsumerRegistration: Sendable {
    public var tag: String
    /// Identifies the owning connection (exclusive queues, exclusive consumers).
    public var connectionID: UInt64
    public var noAck: Bool
    public var exclusive: Bool
    /// x-priority from basic.consume arguments (default 0).
    public var priority: Int32
    public var arguments: FieldTable
    public var credit: CreditGate
    public var sink: any DeliverySink

    public init(tag: String, connectionID: UInt64, noAck: Bool, exclusive: Bool, priority: Int32,
                arguments: FieldTable, credit: CreditGate, sink: any DeliverySink) {
        self.tag = tag
        self.connectionID = connectionID
        self.noAck = noAck
        self.exclusive = exclusive
        self.priority = priority
        self.arguments = arguments
        self.credit = credit
        self.sink = sink
    }
}
