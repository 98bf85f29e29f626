/// One AMQP frame: type octet, channel, 32-bit payload size, payload, frame-end octet (0xCE).
public enum Frame: Sendable, Hashable {
    case method(channel: UInt16, AMQPMethod)
    case header(channel: UInt16, ContentHeader)
    case body(channel: UInt16, [UInt8])
    case heartbeat(channel: UInt16)

    /// The frame-end octet.
    public static let end: UInt8 = 0xCE
    /// Bytes a frame adds around its payload: 7 header + 1 frame-end.
    public static let overhead = 8
    /// The smallest frame-max a peer may negotiate (spec constant `frame-min-size`).
    public static let minSize: UInt32 = 4096

    /// Frame type octets.
    public enum FrameType: UInt8, Sendable {
        case method = 1
        case header = 2
        case body = 3
        case heartbeat = 8
    }

    public var channel: UInt16 {
        switch self {
        case .method(let c, _), .header(let c, _), .body(let c, _), .heartbeat(let c): c
        }
    }

    public var type: FrameType {
        switch self {
        case .method: .method
        case .header: .header
        case .body: .body
        case .heartbeat: .heartbeat
        }
    }
}
