/// The metadata store of `DiskStorageEngine`: a definitions log (see `KeyValueLog`) loaded into memory.
/// `put` and `delete` return once their record is durable.
public final class DiskMetadataStore: MetadataStore {
    let log: KeyValueLog

    init(log: KeyValueLog) {
        self.log = log
    }

    public func put(_ key: String, _ value: [UInt8]) async throws(StorageError) {
        try await self.log.write(key, value)
    }

    public func get(_ key: String) async throws(StorageError) -> [UInt8]? {
        await self.log.values[key]
    }

    public func delete(_ key: String) async throws(StorageError) {
        try await self.log.write(key, nil)
    }

    public func list(prefix: String) async throws(StorageError) -> [(key: String, value: [UInt8])] {
        let values = await self.log.values
        return values.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }

    /// Size of the definitions log in bytes.
    public func logSize() async -> UInt64 {
        await self.log.fileSize
    }
}
