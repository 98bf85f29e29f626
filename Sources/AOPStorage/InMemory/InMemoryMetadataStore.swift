import Synchronization

/// A metadata store held in memory (tests, and brokers without durable definitions).
public final class InMemoryMetadataStore: MetadataStore {
    private let values = Mutex<[String: [UInt8]]>([:])

    public init() {}

    public func put(_ key: String, _ value: [UInt8]) async throws(StorageError) {
        self.values.withLock { $0[key] = value }
    }

    public func get(_ key: String) async throws(StorageError) -> [UInt8]? {
        self.values.withLock { $0[key] }
    }

    public func delete(_ key: String) async throws(StorageError) {
        self.values.withLock { _ = $0.removeValue(forKey: key) }
    }

    public func list(prefix: String) async throws(StorageError) -> [(key: String, value: [UInt8])] {
        let matching = self.values.withLock { values in
            values.filter { $0.key.hasPrefix(prefix) }
        }
        return matching.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }
}
