import Testing
@testable import AOPStress

@Suite struct MessageStampTests {
    @Test(arguments: [0, 1, 100, 4096])
    func roundTrips(filler: Int) {
        let id = MessageID(producer: 7, sequence: 123_456_789_012)
        let body = MessageStamp.encode(run: 42, id: id, fillerLength: filler)
        #expect(body.count == MessageStamp.headerSize + filler)
        #expect(MessageStamp.decode(body) == .message(run: 42, id: id))
    }

    @Test func detectsCorruptionTruncationAndForeignBodies() {
        let body = MessageStamp.encode(run: 1, id: MessageID(producer: 2, sequence: 3), fillerLength: 64)
        for index in [0, 9, 13, 27, 40, body.count - 1] {
            var damaged = body
            damaged[index] ^= 0x40
            guard case .corrupt = MessageStamp.decode(damaged) else {
                Issue.record("flipping byte \(index) went unnoticed")
                continue
            }
        }
        if case .message = MessageStamp.decode(Array(body.dropLast())) { Issue.record("truncation went unnoticed") }
        if case .message = MessageStamp.decode(Array("hello".utf8)) { Issue.record("foreign body accepted") }
    }
}
