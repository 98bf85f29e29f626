import AOPWire
import Testing
@testable import AOPBroker

@Suite struct HeadersRouterTests {
    private func routes(_ args: FieldTable, _ headers: FieldTable?) -> Bool {
        var r = HeadersRouter()
        _ = r.bind(Binding(destination: .queue("q"), routingKey: "", arguments: args))
        return r.route(routingKey: "ignored", headers: headers) == [.queue("q")]
    }

    @Test func allIsTheDefault() {
        #expect(routes(["a": 1, "b": "x"], ["a": 1, "b": "x", "c": true]))
        #expect(!routes(["a": 1, "b": "x"], ["a": 1]))
        #expect(routes(["x-match": "all", "a": 1], ["a": 1]))
        #expect(routes([:], nil))                 // nothing to compare: all matches
        #expect(routes(["x-match": "all"], [:]))
    }

    @Test func anyNeedsOne() {
        #expect(routes(["x-match": "any", "a": 1, "b": 2], ["b": 2]))
        #expect(!routes(["x-match": "any", "a": 1, "b": 2], ["b": 3]))
        #expect(!routes(["x-match": "any"], ["a": 1]))   // nothing to compare: any matches none
    }

    @Test func xArgumentsAreIgnoredUnlessWithX() {
        #expect(routes(["x-match": "all", "x-tag": "t", "a": 1], ["a": 1]))
        #expect(!routes(["x-match": "all-with-x", "x-tag": "t", "a": 1], ["a": 1]))
        #expect(routes(["x-match": "all-with-x", "x-tag": "t", "a": 1], ["a": 1, "x-tag": "t"]))
        #expect(!routes(["x-match": "any", "x-tag": "t"], ["x-tag": "t"]))
        #expect(routes(["x-match": "any-with-x", "x-tag": "t", "a": 1], ["x-tag": "t"]))
        // x-match itself is never compared, even under -with-x.
        #expect(routes(["x-match": "all-with-x"], [:]))
    }

    @Test func voidMatchesPresence() {
        #expect(routes(["a": .void], ["a": "anything"]))
        #expect(routes(["a": .void], ["a": .void]))
        #expect(!routes(["a": .void], ["b": 1]))
        #expect(!routes(["a": 1], ["a": .void]))
    }

    @Test func valuesCompareAsErlangTermsWithoutTopLevelTypes() {
        #expect(routes(["a": .int32(5)], ["a": .int64(5)]))
        #expect(routes(["a": .uint8(5)], ["a": .int16(5)]))
        #expect(routes(["a": .uint64(UInt64.max)], ["a": .int64(-1)]))   // 'L' is read as signed
        #expect(!routes(["a": .int32(1)], ["a": .double(1)]))
        #expect(routes(["a": .float(1.5)], ["a": .double(1.5)]))
        #expect(routes(["a": .string("v")], ["a": .bytes(Array("v".utf8))]))
        #expect(!routes(["a": .string("true")], ["a": true]))
        #expect(!routes(["a": .string("V")], ["a": "v"]))
        #expect(routes(["a": .decimal(scale: 2, value: 150)], ["a": .decimal(scale: 2, value: 150)]))
        #expect(!routes(["a": .decimal(scale: 1, value: 15)], ["a": .decimal(scale: 2, value: 150)]))
        // A timestamp header is seen in milliseconds.
        #expect(routes(["a": .int64(5000)], ["a": .timestamp(5)]))
        #expect(!routes(["a": .timestamp(5)], ["a": .timestamp(5)]))
        // The last of repeated header keys counts.
        #expect(routes(["a": 2], FieldTable([.init(key: "a", value: 1), .init(key: "a", value: 2)])))
        // Header names are compared byte for byte.
        #expect(!routes(["caf\u{E9}": 1], ["cafe\u{301}": 1]))
    }

    @Test func nestedValuesCompareWithTypes() {
        let t: FieldTable = ["k": .int32(1), "s": "x"]
        #expect(routes(["a": .table(t)], ["a": .table(t)]))
        #expect(!routes(["a": .table(t)], ["a": .table(["k": .int64(1), "s": "x"])]))
        #expect(!routes(["a": .table(t)], ["a": .table(["s": "x", "k": .int32(1)])]))
        #expect(routes(["a": .array([.int32(1), "x"])], ["a": .array([.int32(1), "x"])]))
        #expect(!routes(["a": .array([.int32(1)])], ["a": .array([.int16(1)])]))
        #expect(routes(["a": .array([.uint64(7)])], ["a": .array([.int64(7)])]))   // both 'long'
        #expect(routes(["a": .array([])], ["a": .table([:])]))   // both [] in Erlang
        #expect(routes(["a": .table(["t": .timestamp(5)])], ["a": .table(["t": .timestamp(5)])]))
    }

    @Test func manyHeadersAreHashed() {
        var headers = FieldTable()
        for i in 0..<20 { headers["h\(i)"] = .int32(Int32(i)) }
        #expect(routes(["h3": 3, "h19": 19], headers))
        #expect(!routes(["h3": 4], headers))
    }

    @Test func eachDestinationOnceAndUnbind() {
        var r = HeadersRouter()
        let b1 = Binding(destination: .queue("q"), routingKey: "", arguments: ["a": 1])
        let b2 = Binding(destination: .queue("q"), routingKey: "", arguments: ["b": 1])
        let b3 = Binding(destination: .queue("r"), routingKey: "", arguments: ["x-match": "any", "a": 1, "b": 1])
        let bound = [r.bind(b1), r.bind(b2), r.bind(b3)]
        #expect(bound == [true, true, true])
        #expect(r.route(routingKey: "", headers: ["a": 1, "b": 1]) == [.queue("q"), .queue("r")])
        do { let result = r.unbind(b1); #expect(result) }
        #expect(r.route(routingKey: "", headers: ["a": 1]) == [.queue("r")])
        do { let result = r.unbindAll(destination: .queue("r")); #expect(result == 1) }
        #expect(r.route(routingKey: "", headers: ["b": 1]) == [.queue("q")])
        #expect(r.bindings == [b2])
    }

    @Test func validation() throws {
        try HeadersRouter.validate(arguments: [:])
        for mode in HeadersMatch.allCases { try HeadersRouter.validate(arguments: ["x-match": .string(mode.rawValue)]) }
        #expect(throws: AMQPError.preconditionFailed(
            "Invalid x-match field value <<\"some\">>; expected all, any, all-with-x, or any-with-x")) {
            try HeadersRouter.validate(arguments: ["x-match": "some"])
        }
        #expect(throws: AMQPError.preconditionFailed(
            "Invalid x-match field type signedint (value 5); expected longstr")) {
            try HeadersRouter.validate(arguments: ["x-match": .int32(5)])
        }
        #expect(throws: AMQPError.preconditionFailed(
            "Invalid x-match field type binary (value <<\"any\">>); expected longstr")) {
            try HeadersRouter.validate(arguments: ["x-match": .bytes(Array("any".utf8))])
        }
        let error = #expect(throws: AMQPError.self) { try HeadersRouter.validate(arguments: ["x-match": "ALL"]) }
        #expect(error?.code.replyCode == 406)
    }
}
