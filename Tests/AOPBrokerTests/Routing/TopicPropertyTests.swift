import AOPWire
import Testing
@testable import AOPBroker

/// SplitMix64: a small seeded generator so the property test is reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A direct transcription of the topic matching rule, independent of the trie: backtracking over
/// words, with the key split by Foundation-free `split` (ASCII-only inputs here).
enum ReferenceTopicMatcher {
    static func words(_ s: String) -> [Substring] {
        s.isEmpty ? [] : s.split(separator: ".", omittingEmptySubsequences: false)
    }

    static func matches(pattern: [Substring], key: [Substring]) -> Bool {
        func go(_ i: Int, _ j: Int) -> Bool {
            if i == pattern.count { return j == key.count }
            if pattern[i] == "#" { return go(i + 1, j) || (j < key.count && go(i, j + 1)) }
            guard j < key.count else { return false }
            return (pattern[i] == "*" || pattern[i] == key[j]) && go(i + 1, j + 1)
        }
        return go(0, 0)
    }
}

@Suite struct TopicPropertyTests {
    static func randomKey(_ g: inout SplitMix64, alphabet: [String], maxWords: Int) -> String {
        let n = Int.random(in: 0...maxWords, using: &g)
        return (0..<n).map { _ in alphabet.randomElement(using: &g)! }.joined(separator: ".")
    }

    @Test func tenThousandBindingsAgreeWithTheReferenceMatcher() {
        var g = SplitMix64(seed: 0x5EED_0001)
        let patternWords = ["a", "b", "c", "d", "", "*", "#", "*", "#"]
        let keyWords = ["a", "b", "c", "d", ""]
        var router = TopicRouter()
        var patterns: [(String, Destination)] = []
        for i in 0..<10_000 {
            let pattern = Self.randomKey(&g, alphabet: patternWords, maxWords: 5)
            let destination = Destination.queue("q\(i)")
            patterns.append((pattern, destination))
            do { let result = router.bind(Binding(destination: destination, routingKey: pattern)); #expect(result) }
        }
        let split = patterns.map { (ReferenceTopicMatcher.words($0.0), $0.1) }
        for _ in 0..<250 {
            let key = Self.randomKey(&g, alphabet: keyWords, maxWords: 6)
            let keyWordsSplit = ReferenceTopicMatcher.words(key)
            let expected = Set(split.filter { ReferenceTopicMatcher.matches(pattern: $0.0, key: keyWordsSplit) }.map(\.1))
            #expect(router.route(routingKey: key, headers: nil) == expected, "key '\(key)'")
        }
        // Remove half, check again, then remove the rest: the trie must end empty.
        for (pattern, destination) in patterns.prefix(5_000) {
            do { let result = router.unbind(Binding(destination: destination, routingKey: pattern)); #expect(result) }
        }
        let rest = split.suffix(5_000)
        for _ in 0..<100 {
            let key = Self.randomKey(&g, alphabet: keyWords, maxWords: 6)
            let kw = ReferenceTopicMatcher.words(key)
            let expected = Set(rest.filter { ReferenceTopicMatcher.matches(pattern: $0.0, key: kw) }.map(\.1))
            #expect(router.route(routingKey: key, headers: nil) == expected, "key '\(key)'")
        }
        for (pattern, destination) in patterns.suffix(5_000) {
            do { let result = router.unbind(Binding(destination: destination, routingKey: pattern)); #expect(result) }
        }
        #expect(router.isEmpty)
        #expect(router.trieNodeCount == 1)
    }

    @Test func manyHashesOnALongKeyTerminate() {
        var r = TopicRouter()
        _ = r.bind(Binding(destination: .queue("Q"), routingKey: Array(repeating: "#", count: 30).joined(separator: ".") + ".a"))
        let key = Array(repeating: "b", count: 200).joined(separator: ".")
        #expect(r.route(routingKey: key, headers: nil).isEmpty)
        #expect(r.route(routingKey: key + ".a", headers: nil) == [.queue("Q")])
    }
}
