import AOPEmbedded
import Foundation

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held. A
/// condition that throws counts as not holding.
func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return (try? await condition()) == true
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

/// A fresh temporary directory for disk storage.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "aop-embedded-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

extension EmbeddedBroker {
    /// Ready messages and consumers of a queue (queue.declare passive).
    func counts(_ queue: String) async throws -> (messages: UInt32, consumers: UInt32) {
        let r = try await self.declareQueue(queue, passive: true)
        return (r.messageCount, r.consumerCount)
    }
}
