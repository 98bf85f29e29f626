/// Where one delivery of an ``AMQPDeliveryBatch`` lies in the batch's buffer.
struct DeliveryEntry: Sendable {
    /// Start of the `basic.deliver` payload (class and method ids first).
    var method: Int32
    /// Start and length of the content-header payload.
    var header: Int32
    var headerLength: Int32
    /// Start and length of the body in the buffer, or the index into `extraBodies` when `bodyIndex >= 0`.
    var body: Int32
    var bodyLength: Int32
    var bodyIndex: Int32
    var redelivered: Bool
    var deliveryTag: UInt64
}
