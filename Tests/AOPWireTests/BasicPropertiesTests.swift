import AOPWire
import Testing

@Suite struct BasicPropertiesTests {
    static let all = BasicProperties(
        contentType: "text/plain", contentEncoding: "gzip", headers: ["x-death": .array([.table(["count": .int64(1)])])],
        deliveryMode: 2, priority: 9, correlationID: "corr", replyTo: "amq.rabbitmq.reply-to", expiration: "60000",
        messageID: "m-1", timestamp: 1_700_000_000, type: "t", userID: "guest", appID: "app", clusterID: "c"
    )

    /// Each property alone, with its flag bit (15 down to 2).
    static let singles: [(BasicProperties, UInt16)] = [
        (BasicProperties(contentType: "a"), 1 << 15),
        (BasicProperties(contentEncoding: "b"), 1 << 14),
        (BasicProperties(headers: ["h": 1]), 1 << 13),
        (BasicProperties(deliveryMode: 1), 1 << 12),
        (BasicProperties(priority: 3), 1 << 11),
        (BasicProperties(correlationID: "c"), 1 << 10),
        (BasicProperties(replyTo: "r"), 1 << 9),
        (BasicProperties(expiration: "1"), 1 << 8),
        (BasicProperties(messageID: "m"), 1 << 7),
        (BasicProperties(timestamp: 5), 1 << 6),
        (BasicProperties(type: "t"), 1 << 5),
        (BasicProperties(userID: "u"), 1 << 4),
        (BasicProperties(appID: "a"), 1 << 3),
        (BasicProperties(clusterID: "c"), 1 << 2),
    ]

    private func roundTrip(_ p: BasicProperties) throws -> (BasicProperties, [UInt8]) {
        var buffer = ByteBuffer()
        p.encode(into: &buffer)
        let bytes = buffer.readableBytesArray
        return (try BasicProperties.decode(from: &buffer), bytes)
    }

    @Test(arguments: 0..<14)
    func eachPropertyAlone(_ i: Int) throws {
        let (p, flag) = Self.singles[i]
        #expect(p.propertyFlags == flag)
        let (decoded, bytes) = try roundTrip(p)
        #expect(decoded == p)
        #expect(bytes[0] == UInt8(flag >> 8) && bytes[1] == UInt8(flag & 0xFF))
    }

    @Test func noneIsTwoZeroBytes() throws {
        let (decoded, bytes) = try roundTrip(BasicProperties())
        #expect(bytes == [0, 0])
        #expect(decoded == BasicProperties())
    }

    @Test func allRoundTrip() throws {
        let (decoded, bytes) = try roundTrip(Self.all)
        #expect(decoded == Self.all)
        #expect(bytes[0] == 0xFF && bytes[1] == 0xFC)
    }

    @Test func everyPairRoundTrips() throws {
        for i in 0..<14 {
            for j in (i + 1)..<14 {
                var p = Self.singles[i].0
                let q = Self.singles[j].0
                // merge q's one property into p through the encoded form's flags
                p = merge(p, q)
                let (decoded, _) = try roundTrip(p)
                #expect(decoded == p, "\(i),\(j)")
                #expect(p.propertyFlags == Self.singles[i].1 | Self.singles[j].1)
            }
        }
    }

    private func merge(_ a: BasicProperties, _ b: BasicProperties) -> BasicProperties {
        var r = a
        r.contentType = a.contentType ?? b.contentType
        r.contentEncoding = a.contentEncoding ?? b.contentEncoding
        r.headers = a.headers ?? b.headers
        r.deliveryMode = a.deliveryMode ?? b.deliveryMode
        r.priority = a.priority ?? b.priority
        r.correlationID = a.correlationID ?? b.correlationID
        r.replyTo = a.replyTo ?? b.replyTo
        r.expiration = a.expiration ?? b.expiration
        r.messageID = a.messageID ?? b.messageID
        r.timestamp = a.timestamp ?? b.timestamp
        r.type = a.type ?? b.type
        r.userID = a.userID ?? b.userID
        r.appID = a.appID ?? b.appID
        r.clusterID = a.clusterID ?? b.clusterID
        return r
    }

    @Test func knownBytesForDeliveryModeAndContentType() throws {
        // content-type "a" (bit 15) + delivery-mode 2 (bit 12)
        var buffer = ByteBuffer(bytes: [0x90, 0x00, 1, 0x61, 2])
        let p = try BasicProperties.decode(from: &buffer)
        #expect(p == BasicProperties(contentType: "a", deliveryMode: 2))
        #expect(p.isPersistent)
    }

    @Test func continuationFlagWordsAreSkipped() throws {
        // flags: priority + continuation, then an empty second flags word, then priority 4
        var buffer = ByteBuffer(bytes: [0x08, 0x01, 0x00, 0x00, 4])
        #expect(try BasicProperties.decode(from: &buffer) == BasicProperties(priority: 4))
    }

    @Test func truncatedOrTrailingBytesAreFrameErrors() {
        var truncated = ByteBuffer(bytes: [0x80, 0x00, 5, 0x61])
        let e1 = #expect(throws: AMQPError.self) { try BasicProperties.decode(from: &truncated) }
        #expect(e1?.code == .frameError)
        var trailing = ByteBuffer(bytes: [0x08, 0x00, 4, 9])
        let e2 = #expect(throws: AMQPError.self) { try BasicProperties.decode(from: &trailing) }
        #expect(e2?.code == .frameError)
    }
}
