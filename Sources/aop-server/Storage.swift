import AOPServer
import AOPStorage
import Logging

/// Opens the storage engine for the configured data directory.
func openStorage(_ configuration: ServerConfiguration, logger: Logger) async throws -> any StorageEngine {
    InMemoryStorageEngine()
}
