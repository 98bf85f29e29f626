/// A broken invariant, with what is needed to find it again.
public struct Violation: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A confirmed message routed to a stable queue was neither delivered from it nor left in it.
        case lost
        /// A message was delivered from one queue more than once without the redelivered flag.
        case duplicate
        /// A consumer (or basic.get on a channel) received one producer's never-redelivered messages out
        /// of publish order.
        case misordered
        /// A message arrived from a stable queue its publish did not route to.
        case misrouted
        /// A mandatory message was returned although a stable queue was bound for it.
        case returnedRoutable
        /// A delivery arrived for a consumer after its cancel-ok.
        case deliveryAfterCancel
        /// A delivery tag appeared twice on one channel.
        case deliveryTagReused
        /// A delivered message was never published in this run.
        case unknownMessage
        /// A delivered body was not intact.
        case corrupt
        /// The broker's resident memory did not come back near its starting value.
        case memoryNotReturned
        /// An operation got no reply from the broker within the timeout (its connection was aborted).
        case stalled
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(self.kind.rawValue): \(self.detail)" }
}
