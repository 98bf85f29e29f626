public import AOPWire

/// The queue types RabbitMQ knows (`x-queue-type`).
public enum QueueType: String, Sendable, Hashable, CaseIterable {
    case classic, quorum, stream

    /// The arguments this type takes (`rabbit_*_queue:capabilities()` `queue_arguments`, 3.13).
    var argumentKeys: [String] {
        switch self {
        case .classic:
            return ["x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key",
                    "x-max-length", "x-max-length-bytes", "x-max-priority", "x-overflow", "x-queue-mode",
                    "x-queue-version", "x-single-active-consumer", "x-queue-type", "x-queue-master-locator"]
        case .quorum:
            return ["x-dead-letter-exchange", "x-dead-letter-routing-key", "x-dead-letter-strategy", "x-expires",
                    "x-max-length", "x-max-length-bytes", "x-max-in-memory-length", "x-max-in-memory-bytes",
                    "x-overflow", "x-single-active-consumer", "x-queue-type", "x-quorum-initial-group-size",
                    "x-delivery-limit", "x-message-ttl", "x-queue-leader-locator"]
        case .stream:
            return ["x-max-length-bytes", "x-queue-type", "x-max-age", "x-stream-max-segment-size-bytes",
                    "x-initial-cluster-size", "x-queue-leader-locator"]
        }
    }

    /// RabbitMQ's module name, as its error texts print the type.
    var moduleName: String { "rabbit_\(self.rawValue)_queue" }
}

/// `x-overflow`: what a full queue does with a new message.
public enum OverflowBehaviour: String, Sendable, Hashable, CaseIterable {
    case dropHead = "drop-head"
    case rejectPublish = "reject-publish"
    case rejectPublishDLX = "reject-publish-dlx"
}

/// The arguments of queue.declare, validated as RabbitMQ 3.13 validates them and parsed into types.
///
/// Decisions (documented here because they differ from or choose within RabbitMQ):
/// - Queue types: only the types in `supportedTypes` (default: classic) are accepted. A known but
///   unsupported type is refused like an unknown one: 406 `invalid arg 'x-queue-type' for queue 'q' in
///   vhost '/': "unsupported queue type 'quorum'"`. Validation of the other arguments follows the type.
/// - Arguments another queue type takes (e.g. `x-delivery-limit` on a classic queue) are refused with
///   RabbitMQ's `invalid arg 'x-delivery-limit' for queue 'q' in vhost '/' of queue type rabbit_classic_queue`.
/// - `x-queue-mode`, `x-queue-version`, `x-queue-master-locator` are validated as RabbitMQ does and ignored.
/// - `x-consumer-timeout` is not validated by RabbitMQ 3.13 (it is read at consume time and used only
///   when it is an integer); `consumerTimeout` is that integer, any other type leaves it nil.
/// - Unknown arguments are kept in `raw` and otherwise ignored, as RabbitMQ does.
public struct QueueArguments: Sendable, Hashable {
    public var queueType: QueueType = .classic
    /// `x-message-ttl`, ms (0 … 315,360,000,000).
    public var messageTTL: Int64?
    /// `x-expires`, ms (1 … 315,360,000,000).
    public var expires: Int64?
    /// `x-max-length`, messages (≥ 0).
    public var maxLength: Int64?
    /// `x-max-length-bytes`, body bytes (≥ 0).
    public var maxLengthBytes: Int64?
    /// `x-overflow`; nil means the default, drop-head.
    public var overflow: OverflowBehaviour?
    public var deadLetterExchange: String?
    public var deadLetterRoutingKey: String?
    /// `x-max-priority` (0 … 255).
    public var maxPriority: UInt8?
    public var singleActiveConsumer: Bool = false
    /// `x-consumer-timeout`, ms, when an integer.
    public var consumerTimeout: Int64?
    /// The arguments as declared (what RabbitMQ stores, lists and compares on redeclare).
    public var raw: FieldTable = [:]

    /// Empty arguments: a classic queue without limits.
    public init() {}

    /// The overflow behaviour in effect.
    public var effectiveOverflow: OverflowBehaviour { self.overflow ?? .dropHead }
}
