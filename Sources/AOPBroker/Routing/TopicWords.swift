/// Splits a topic routing key or binding key into words the way RabbitMQ does
/// (`rabbit_db_topic_exchange:split_topic_key`): on every '.' byte, keeping empty words, so "a..b" is
/// ["a", "", "b"] and "a." is ["a", ""]; the empty key is zero words (not one empty word).
/// Splitting on the byte (not on `Character`) matters: "." followed by a combining mark is one
/// `Character` in Swift but still a separator for RabbitMQ.
enum TopicWords {
    /// Calls `body` with each word in order; stops early when it returns false.
    @inline(__always)
    static func forEach(in key: Substring, _ body: (Substring) -> Bool) {
        let utf8 = key.utf8
        guard !utf8.isEmpty else { return }
        var start = utf8.startIndex
        while true {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: ".")) ?? utf8.endIndex
            guard body(Substring(utf8[start..<end])) else { return }
            if end == utf8.endIndex { return }
            start = utf8.index(after: end)
        }
    }

    /// The words as an array (for tests and the reference matcher).
    static func split(_ key: String) -> [Substring] {
        var words: [Substring] = []
        forEach(in: key[...]) { words.append($0); return true }
        return words
    }
}
