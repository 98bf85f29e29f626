import AOPWire
import Testing
@testable import AOPBroker

@Suite struct ErlangFormatTests {
    @Test func terms() {
        #expect(ErlangFormat.binary(Array("abc".utf8)) == "<<\"abc\">>")
        #expect(ErlangFormat.binary([]) == "<<>>")
        #expect(ErlangFormat.binary([0, 255]) == "<<0,255>>")
        #expect(ErlangFormat.binary(Array("é\"".utf8)) == "<<\"é\\\"\"/utf8>>")
        #expect(ErlangFormat.charList("a b") == "\"a b\"")
        #expect(ErlangFormat.float(1.5) == "1.5")
        #expect(ErlangFormat.float(100) == "100.0")
        #expect(ErlangFormat.float(1e-5) == "1.0e-5")
        #expect(ErlangFormat.value(.decimal(scale: 2, value: 5)) == "{2,5}")
        #expect(ErlangFormat.value(.table(["a": .int32(1)])) == "[{<<\"a\">>,signedint,1}]")
        #expect(ErlangFormat.value(.array([true])) == "[{bool,true}]")
    }

    @Test func sortedByKeyIsStableAndBytewise() {
        let t = FieldTable([.init(key: "b", value: 1), .init(key: "B", value: 2), .init(key: "b", value: 3), .init(key: "a", value: 4)])
        #expect(t.sortedByKey().entries.map(\.value) == [2, 4, 1, 3])
    }
}
