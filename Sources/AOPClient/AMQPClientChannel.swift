import Synchronization
import AOPWire

/// An AMQP channel on an ``AMQPClientConnection``.
///
/// Every call hops once to the connection's loop (none when the caller already runs there). After the
/// server closes the channel (`channel.close`), pending and later calls throw an ``AMQPClientError`` with
/// code `.channelClosedByServer` and the server's reply code and text; after the connection ends they
/// throw the connection's error.
public final class AMQPClientChannel: Sendable {
    public let connection: AMQPClientConnection
    /// The channel number.
    public let id: UInt16
    let shared: ChannelSharedState

    init(connection: AMQPClientConnection, id: UInt16, shared: ChannelSharedState) {
        self.connection = connection
        self.id = id
        self.shared = shared
    }

    /// Why the channel closed; nil while it is open (or while only its connection has failed).
    public var closeError: AMQPClientError? { self.shared.closeError.withLock { $0 } }

    /// Deliveries that arrived for a consumer tag this channel did not know (never consumed, or after
    /// its `cancel-ok` / server cancel). They are not delivered anywhere else.
    public var unexpectedDeliveryCount: Int { self.shared.unexpectedCount.load(ordering: .relaxed) }

    /// `basic.deliver`s that arrived after the channel had closed (after the server's `channel.close`, or
    /// after the `close-ok` of ours) and were discarded, as the spec asks of a closed channel. RabbitMQ
    /// sends such deliveries when they race its `channel.close` (their messages are requeued in ack mode,
    /// gone in no-ack mode). They are not counted in `unexpectedDeliveryCount`.
    public var deliveriesAfterClose: Int { self.shared.discardedAfterClose.load(ordering: .relaxed) }

    /// The first 1000 unexpected deliveries (consumer tag and delivery tag).
    public var unexpectedDeliveries: [AMQPUnexpectedDelivery] { self.shared.unexpected.withLock { $0 } }

    /// Mandatory messages the server returned (`basic.return`), in arrival order; ends when the channel closes.
    public var returns: AMQPClientSequence<AMQPReturnedMessage> {
        AMQPClientSequence(queue: self.shared.returns, connection: self.connection)
    }

    /// Closes the channel (`channel.close` 200, waits for `close-ok`). Its consumers' sequences end.
    /// Closing a channel that is already closed does nothing, unless the server closed it: then that
    /// error is thrown.
    nonisolated(nonsending) public func close() async throws(AMQPClientError) {
        try await self.connection.closeChannel(self)
    }

    /// `basic.qos`: at most `prefetchCount` unacknowledged deliveries (0 = no limit), per consumer, or
    /// for the whole channel when `global` (RabbitMQ's reading of the flag).
    nonisolated(nonsending) public func basicQos(prefetchCount: UInt16, global: Bool = false) async throws(AMQPClientError) {
        _ = try await self.connection.rpc(self, .basicQos(BasicQos(prefetchSize: 0, prefetchCount: prefetchCount,
                                                                   global: global)), replies: [(60, 11)])
    }

    /// `channel.flow`: asks the server to stop (`false`) or resume (`true`) deliveries on this channel.
    /// - Returns: the state the server confirmed.
    @discardableResult
    nonisolated(nonsending) public func flow(active: Bool) async throws(AMQPClientError) -> Bool {
        let reply = try await self.connection.rpc(self, .channelFlow(ChannelFlow(active: active)), replies: [(20, 21)])
        guard case .method(.channelFlowOk(let ok)) = reply else { return active }
        return ok.active
    }

    /// Puts the channel in confirm mode (`confirm.select`): from now on `basicPublish` returns sequence
    /// numbers 1, 2, … that the server acks or nacks.
    nonisolated(nonsending) public func confirmSelect() async throws(AMQPClientError) {
        try await self.connection.confirmSelect(self)
    }

    /// The confirms (`basic.ack` / `basic.nack`) the server sends from now on, as they arrive. Call it once,
    /// before publishing; the sequence buffers until read and ends when the channel closes.
    nonisolated(nonsending) public func confirms() async throws(AMQPClientError) -> AMQPClientSequence<AMQPConfirm> {
        try await self.connection.confirmSequence(self)
    }

    /// Waits until every publish so far is confirmed.
    /// - Returns: true when all were acked since the last call, false when any was nacked.
    @discardableResult
    nonisolated(nonsending) public func waitForConfirms() async throws(AMQPClientError) -> Bool {
        try await self.connection.waitForConfirms(self, outstandingBelow: 1)
    }

    /// Waits until fewer than `limit` publishes are unconfirmed (a publisher's in-flight window).
    nonisolated(nonsending) public func waitForConfirms(outstandingBelow limit: Int) async throws(AMQPClientError) {
        _ = try await self.connection.waitForConfirms(self, outstandingBelow: UInt64(max(1, limit)))
    }

    /// Publishes, acked and nacked so far in confirm mode.
    nonisolated(nonsending) public func confirmCounts() async throws(AMQPClientError)
        -> (published: UInt64, acked: UInt64, nacked: UInt64)
    {
        try await self.connection.confirmCounts(self)
    }
}
