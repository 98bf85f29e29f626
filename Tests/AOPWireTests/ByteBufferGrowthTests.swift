import AOPWire
import Testing

/// Buffers filled frame by frame must grow geometrically: `Array.reserveCapacity` allocates exactly
/// what is asked, so reserving "count + this frame" per frame would copy the whole buffer every time.
@Suite struct ByteBufferGrowthTests {
    @Test func reserveAdditionalCapacityGrowsGeometrically() {
        var buffer = ByteBuffer()
        var reallocations = 0
        var capacity = buffer.storage.capacity
        for _ in 0..<10_000 {
            buffer.reserveAdditionalCapacity(64)
            #expect(buffer.storage.capacity >= buffer.writerIndex + 64)
            buffer.writeBytes([UInt8](repeating: 7, count: 64))
            if buffer.storage.capacity != capacity {
                reallocations += 1
                capacity = buffer.storage.capacity
            }
        }
        #expect(buffer.readableBytes == 640_000)
        #expect(reallocations < 30)  // ~log2(640,000 / 64); exact reservations would make 10,000
    }

    @Test func deliveriesIntoAnEmptyBufferReallocateRarely() {
        var buffer = ByteBuffer()
        var reallocations = 0
        var capacity = buffer.storage.capacity
        for tag in 1...5_000 {
            buffer.writeBasicDeliver(
                channel: 1, consumerTag: "ctag", deliveryTag: UInt64(tag), redelivered: false, exchange: "",
                routingKey: "q", properties: BasicProperties(), body: [UInt8](repeating: 1, count: 16),
                frameMax: 131_072)
            if buffer.storage.capacity != capacity {
                reallocations += 1
                capacity = buffer.storage.capacity
            }
        }
        #expect(reallocations < 30)
    }
}
