/// One step of a channel's seeded operation stream. Choices that depend on the channel's state at run
/// time (which consumer to cancel, which delivery to settle) carry a `pick` the runner reduces modulo
/// what exists, so the stream itself depends only on the seed.
public enum StressOperation: Hashable, Sendable {
    /// How a consumer settles what it receives (ack-mode consumers only).
    public enum SettlePolicy: Hashable, Sendable {
        /// basic.ack for each delivery as it arrives.
        case ackEach
        /// Kept until a `.settle` operation (or recover / channel close) settles it.
        case hold
        /// Per delivery at random: mostly ack, some nack/reject with and without requeue.
        case mixed
    }

    public enum Settlement: Hashable, Sendable {
        case ack
        case nack(requeue: Bool)
        case reject(requeue: Bool)
    }

    /// A queue of the run: stable (tracked exactly) or churn.
    public enum QueueRef: Hashable, Sendable {
        case stable(Int)
        case churn(Int)
    }

    case publish(exchange: String, routingKey: String, count: Int, mandatory: Bool, persistent: Bool)
    case consume(queue: QueueRef, noAck: Bool, policy: SettlePolicy, seed: UInt64)
    case cancel(pick: Int)
    case get(queue: QueueRef, noAck: Bool)
    case settle(Settlement, multiple: Bool, pick: Int)
    case recover
    case qos(prefetch: UInt16, global: Bool)
    case declareExchange(Int)
    case deleteExchange(Int)
    case declareQueue(Int)
    case deleteQueue(Int)
    case bind(queue: Int, exchange: String, routingKey: String)
    case unbind(queue: Int, exchange: String, routingKey: String)
    case closeChannel
    case closeConnection
    case abortConnection

    /// A short name for counting operations in the summary.
    public var kind: String {
        switch self {
        case .publish(_, _, _, let mandatory, _): mandatory ? "publish-mandatory" : "publish"
        case .consume(_, let noAck, _, _): noAck ? "consume-noack" : "consume"
        case .cancel: "cancel"
        case .get(_, let noAck): noAck ? "get-noack" : "get"
        case .settle(.ack, _, _): "ack"
        case .settle(.nack(let requeue), _, _): requeue ? "nack-requeue" : "nack-drop"
        case .settle(.reject(let requeue), _, _): requeue ? "reject-requeue" : "reject-drop"
        case .recover: "recover"
        case .qos: "qos"
        case .declareExchange: "exchange-declare"
        case .deleteExchange: "exchange-delete"
        case .declareQueue: "queue-declare"
        case .deleteQueue: "queue-delete"
        case .bind: "bind"
        case .unbind: "unbind"
        case .closeChannel: "channel-close"
        case .closeConnection: "connection-close"
        case .abortConnection: "connection-abort"
        }
    }
}
