@testable import AOPBroker
import AOPWire
import Testing

/// `Message` is a copy-on-write value over one shared object.
@Suite struct MessageTests {
    private func message(_ body: [UInt8] = [1, 2, 3]) -> Message {
        var p = BasicProperties()
        p.contentType = "text/plain"
        return Message(exchange: "x", routingKey: "k", properties: p, body: body)
    }

    @Test func copiesShareStorageUntilWritten() {
        let original = self.message()
        var copy = original
        #expect(copy.sharesStorage(with: original))
        copy.routingKey = "other"
        copy.properties.headers = ["h": .int32(1)]
        copy.body.append(4)
        #expect(!copy.sharesStorage(with: original))
        #expect(original.routingKey == "k")
        #expect(original.properties.headers == nil)
        #expect(original.body == [1, 2, 3])
        #expect(copy.exchange == "x")
        #expect(copy.routingKey == "other")
        #expect(copy.properties.headers?["h"] == .int32(1))
        #expect(copy.properties.contentType == "text/plain")
        #expect(copy.body == [1, 2, 3, 4])
    }

    @Test func equalityAndHashFollowTheFields() {
        let a = self.message()
        let b = self.message()
        #expect(!a.sharesStorage(with: b))
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != self.message([9]))
        var c = a
        c.exchange = "other"
        #expect(a != c)
        #expect(Set([a, b, c]).count == 2)
    }
}
