import AOPWire
import Testing
@testable import AOPBroker

private func q(_ name: String) -> Destination { .queue(name) }

private func router(_ patterns: [(String, String)]) -> TopicRouter {
    var r = TopicRouter()
    for (pattern, queue) in patterns { _ = r.bind(Binding(destination: q(queue), routingKey: pattern)) }
    return r
}

@Suite struct TopicRouterTests {
    /// The table from RabbitMQ tutorial 5 (topics).
    @Test(arguments: [
        ("quick.orange.rabbit", ["Q1", "Q2"]),
        ("lazy.orange.elephant", ["Q1", "Q2"]),
        ("quick.orange.fox", ["Q1"]),
        ("lazy.brown.fox", ["Q2"]),
        ("lazy.pink.rabbit", ["Q2"]),
        ("quick.brown.fox", []),
        ("orange", []),
        ("quick.orange.new.rabbit", []),
        ("lazy.orange.new.rabbit", ["Q2"]),
    ])
    func tutorialTable(key: String, expected: [String]) {
        let r = router([("*.orange.*", "Q1"), ("*.*.rabbit", "Q2"), ("lazy.#", "Q2")])
        #expect(r.route(routingKey: key, headers: nil) == Set(expected.map(q)))
    }

    /// Edge cases checked against RabbitMQ's split_topic_key / trie_match semantics.
    @Test(arguments: [
        ("#", "", true), ("#", "a", true), ("#", "a.b.c", true), ("#", ".", true),
        ("*", "", false), ("*", "a", true), ("*", "a.b", false), ("*", ".", false),
        ("", "", true), ("", "a", false),
        ("a.#", "a", true), ("a.#", "a.b.c", true), ("a.#", "b", false), ("a.#", "a.", true),
        ("#.a", "a", true), ("#.a", "x.y.a", true), ("#.a", "a.x", false),
        ("#.#", "", true), ("#.#", "a.b", true),
        ("a.#.b", "a.b", true), ("a.#.b", "a.x.y.b", true), ("a.#.b", "a.x.y", false),
        ("*.*", "a", false), ("*.*", "a.b", true), ("*.*", "a.", true), ("*.*", ".", true),
        ("a..b", "a..b", true), ("a.*.b", "a..b", true), ("a.b", "a..b", false),
        (".a", ".a", true), ("a.", "a.", true), ("a.", "a", false), ("*", "", false),
        ("#.*", "", false), ("#.*", "a", true), ("*.#", "a", true), ("*.#", "", false),
        ("a*", "ab", false), ("a*", "a*", true), ("a#", "a#", true), ("a#", "a", false),
        ("#.#.#.#.a", "b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.a", true),
        ("#.#.#.#.a", "b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.c", false),
        ("café", "cafe\u{301}", false), ("a.*", "a.\u{301}", true),
    ])
    func edgeCases(pattern: String, key: String, matches: Bool) {
        let r = router([(pattern, "Q")])
        #expect(r.route(routingKey: key, headers: nil) == (matches ? [q("Q")] : []), "\(pattern) vs \(key)")
    }

    @Test func literalWildcardWordsInRoutingKeyMatchOnlyAsWords() {
        let r = router([("a.*", "Q1"), ("a.#", "Q2"), ("a.b", "Q3")])
        #expect(r.route(routingKey: "a.*", headers: nil) == [q("Q1"), q("Q2")])
        #expect(r.route(routingKey: "a.#", headers: nil) == [q("Q1"), q("Q2")])
    }

    @Test func bindIsIdempotentAndArgumentsMakeADifferentBinding() {
        var r = TopicRouter()
        let b = Binding(destination: q("Q"), routingKey: "a.*", arguments: ["x": 1, "a": 2])
        do { let result = r.bind(b); #expect(result) }
        do { let result = r.bind(Binding(destination: q("Q"), routingKey: "a.*", arguments: ["a": 2, "x": 1])); #expect(!result) }
        do { let result = r.bind(Binding(destination: q("Q"), routingKey: "a.*", arguments: ["x": 2])); #expect(result) }
        #expect(r.bindings.count == 2)
        do { let result = r.unbind(b); #expect(result) }
        #expect(r.route(routingKey: "a.b", headers: nil) == [q("Q")])   // the other binding remains
        do { let result = r.unbind(b); #expect(!result) }
    }

    @Test func unbindPrunesTheTrie() {
        var r = router([("a.b.c", "Q1"), ("a.#", "Q2"), ("*.b", "Q1")])
        #expect(r.trieNodeCount > 1)
        do { let result = r.unbind(Binding(destination: q("Q1"), routingKey: "a.b.c")); #expect(result) }
        #expect(r.route(routingKey: "a.b.c", headers: nil) == [q("Q2")])
        do { let result = r.unbindAll(destination: q("Q1")); #expect(result == 1) }
        do { let result = r.unbind(Binding(destination: q("Q2"), routingKey: "a.#")); #expect(result) }
        #expect(r.isEmpty)
        #expect(r.trieNodeCount == 1)
        #expect(r.route(routingKey: "a", headers: nil).isEmpty)
    }

    @Test func unbindAllRemovesOnlyThatDestination() {
        var r = router([("a", "Q1"), ("#", "Q1"), ("a", "Q2")])
        _ = r.bind(Binding(destination: .exchange("X"), routingKey: "a"))
        do { let result = r.unbindAll(destination: q("Q1")); #expect(result == 2) }
        do { let result = r.unbindAll(destination: q("Q1")); #expect(result == 0) }
        #expect(r.route(routingKey: "a", headers: nil) == [q("Q2"), .exchange("X")])
        #expect(r.bindings.count == 2)
    }

    @Test func wordSplitting() {
        #expect(TopicWords.split("") == [])
        #expect(TopicWords.split(".") == ["", ""])
        #expect(TopicWords.split("a..b") == ["a", "", "b"])
        #expect(TopicWords.split("a.\u{301}b") == ["a", "\u{301}b"])
    }
}
