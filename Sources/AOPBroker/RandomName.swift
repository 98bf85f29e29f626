/// Random names for server-named queues and consumer tags (`amq.gen-…`, `amq.ctag-…`), base64url alphabet.
enum RandomName {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func make(length: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for _ in 0..<length { bytes.append(self.alphabet[Int(rng.next() % UInt64(self.alphabet.count))]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
