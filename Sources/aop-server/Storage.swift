import AOPIO
import AOPServer
import AOPStorage
import Logging

/// Opens the on-disk storage engine in the configured data directory (created if missing), with all
/// file I/O on the given io_uring ring(s).
func openStorage(_ configuration: ServerConfiguration, loops: RingLoopGroup, logger: Logger) async throws -> any StorageEngine {
    var storageLogger = logger
    storageLogger[metadataKey: "component"] = "storage"
    storageLogger.info("opening storage in \(configuration.dataDirectory)")
    var options = DiskStorageOptions()
    options.segmentSize = configuration.segmentSize
    options.preallocationBytes = configuration.preallocationBytes
    options.maximumCommitRoundsInFlight = configuration.commitRoundsInFlight
    options.maximumUnsyncedBatches = configuration.unsyncedBatches
    options.retention = configuration.retainForever ? .infinite
        : Retention(time: configuration.retentionTime, size: configuration.retentionSize)
    return try await DiskStorageEngine(
        directory: configuration.dataDirectory,
        fileSystem: URingFileSystem(group: loops),
        options: options,
        logger: storageLogger
    )
}
