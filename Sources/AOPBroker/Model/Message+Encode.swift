import AOPWire

extension Message {
    /// Writes this message as a basic.deliver (method, content header, body frames) into `buffer`.
    ///
    /// The fields are passed borrowed straight from the shared storage object: reading them through
    /// `Message`'s accessors into `writeBasicDeliver`'s arguments copied the properties (a retain and a
    /// release per present property) for every delivery.
    func writeDeliver(into buffer: inout ByteBuffer, channel: UInt16, consumerTag: String, deliveryTag: UInt64,
                      redelivered: Bool, frameMax: UInt32) {
        self.storage.writeDeliver(into: &buffer, channel: channel, consumerTag: consumerTag,
                                  deliveryTag: deliveryTag, redelivered: redelivered, frameMax: frameMax)
    }
}

extension MessageStorage {
    /// See `Message.writeDeliver(into:…)`.
    func writeDeliver(into buffer: inout ByteBuffer, channel: UInt16, consumerTag: String, deliveryTag: UInt64,
                      redelivered: Bool, frameMax: UInt32) {
        buffer.writeBasicDeliver(channel: channel, consumerTag: consumerTag, deliveryTag: deliveryTag,
                                 redelivered: redelivered, exchange: self.exchange, routingKey: self.routingKey,
                                 properties: self.properties, body: self.body, frameMax: frameMax)
    }
}
