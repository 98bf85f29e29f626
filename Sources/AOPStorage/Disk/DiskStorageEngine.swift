import AOPIO
import Logging

/// The on-disk storage engine: persistent topics as segment files with group commit and durable
/// cursors, non-persistent topics in memory, and a definitions log for metadata.
///
/// Layout under `directory`: `metadata/definitions.log`, `topics/<escaped name>/<first position>.seg`
/// and `topics/<escaped name>/cursors.log`. See Docs/Storage.md.
public actor DiskStorageEngine: StorageEngine {
    private enum Slot {
        case opening(Task<Result<DiskTopic, StorageError>, Never>)
        case persistent(DiskTopic)
        case memory(InMemoryTopic)
    }

    public nonisolated let metadata: any MetadataStore
    public nonisolated let directory: String
    private let environment: TopicEnvironment
    private var topics: [String: Slot] = [:]
    private var closed = false

    /// Opens (creating) the storage directory and loads the metadata store.
    /// - Parameters:
    ///   - directory: root directory of this engine's files.
    ///   - fileSystem: io_uring, POSIX, or a test double.
    ///   - options: segment size, index interval, retention, compaction threshold.
    ///   - logger: recovery findings (torn tails cut, corruption) are logged here.
    public init(directory: String, fileSystem: any FileSystem, options: DiskStorageOptions = DiskStorageOptions(),
                logger: Logger? = nil) async throws(StorageError) {
        let logger = logger ?? Logger(label: "aop.storage", factory: { _ in SwiftLogNoOpLogHandler() })
        let counters = StorageCounters()
        let scheduler = DurabilityScheduler(counters: counters, maximumHold: options.maximumCommitHold,
                                            maximumRoundsInFlight: options.maximumCommitRoundsInFlight)
        do throws(IOError) {
            for path in [directory, directory + "/topics", directory + "/metadata"]
            where !fileSystem.fileExists(path: path) {
                try fileSystem.createDirectory(path: path)
                try await fileSystem.syncDirectory(path: DiskTopic.parent(of: path))
            }
        } catch {
            throw StorageError(error, "creating storage directory \(directory)")
        }
        let log = try await KeyValueLog.open(directory: directory + "/metadata", name: "definitions.log",
                                             fileSystem: fileSystem, scheduler: scheduler, logger: logger,
                                             compactionThreshold: options.compactionThreshold)
        self.metadata = DiskMetadataStore(log: log)
        self.directory = directory
        self.environment = TopicEnvironment(fileSystem: fileSystem, scheduler: scheduler, options: options,
                                            logger: logger, counters: counters)
    }

    /// Counters: corruption found, torn bytes cut, commit rounds and fdatasyncs.
    public nonisolated func statistics() -> DiskStorageStatistics {
        self.environment.counters.snapshot
    }

    /// Opens or creates a topic. A persistent topic is recovered from disk on first open. An open topic
    /// is returned as it is, whatever `kind` asks for.
    public func topic(named name: String, kind: TopicKind) async throws(StorageError) -> any Topic {
        switch kind {
        case .persistent: return try await self.persistentTopic(named: name)
        case .nonPersistent:
            guard !self.closed else { throw StorageError(.closed, "storage engine is shut down") }
            switch self.topics[name] {
            case .memory(let topic): return topic
            case .persistent, .opening: return try await self.persistentTopic(named: name)
            case nil:
                let topic = InMemoryTopic(name: name, kind: .nonPersistent)
                self.topics[name] = .memory(topic)
                return topic
            }
        }
    }

    /// Opens or creates a persistent topic, with its concrete type.
    public func persistentTopic(named name: String) async throws(StorageError) -> DiskTopic {
        guard !self.closed else { throw StorageError(.closed, "storage engine is shut down") }
        let task: Task<Result<DiskTopic, StorageError>, Never>
        switch self.topics[name] {
        case .persistent(let topic): return topic
        case .memory:
            throw StorageError(.io, "topic '\(name)' is open as a non-persistent topic")
        case .opening(let opening): task = opening
        case nil:
            let directory = self.directory + "/topics/" + TopicDirectoryName.escape(name)
            let environment = self.environment
            task = Task { () -> Result<DiskTopic, StorageError> in
                do throws(StorageError) {
                    return .success(try await DiskTopic.open(name: name, directory: directory, environment: environment))
                } catch {
                    return .failure(error)
                }
            }
            self.topics[name] = .opening(task)
        }
        let result = await task.value
        switch result {
        case .success(let topic):
            if case .opening = self.topics[name] { self.topics[name] = .persistent(topic) }
            return topic
        case .failure(let error):
            if case .opening = self.topics[name] { self.topics[name] = nil }
            throw error
        }
    }

    /// Deletes a topic: an open one is closed first; a persistent topic's files and directory are removed.
    public func deleteTopic(named name: String) async throws(StorageError) {
        guard !self.closed else { throw StorageError(.closed, "storage engine is shut down") }
        let directory = self.directory + "/topics/" + TopicDirectoryName.escape(name)
        switch self.topics[name] {
        case .memory(let topic):
            self.topics[name] = nil
            topic.close()
            return
        case .opening, .persistent:
            let topic = try await self.persistentTopic(named: name)
            self.topics[name] = nil
            await topic.close()
        case nil:
            guard self.environment.fileSystem.fileExists(path: directory) else {
                throw StorageError(.notFound, "topic '\(name)' not found")
            }
        }
        let fileSystem = self.environment.fileSystem
        do throws(IOError) {
            for file in try fileSystem.listDirectory(path: directory) {
                try fileSystem.remove(path: directory + "/" + file)
            }
            try fileSystem.remove(path: directory)
            try await fileSystem.syncDirectory(path: self.directory + "/topics")
        } catch {
            throw StorageError(error, "deleting topic '\(name)'")
        }
    }

    /// Closes every topic (in-flight appends finish first) and the metadata log.
    public func shutdown() async {
        guard !self.closed else { return }
        self.closed = true
        let slots = self.topics
        self.topics = [:]
        for (_, slot) in slots {
            switch slot {
            case .memory(let topic): topic.close()
            case .persistent(let topic): await topic.close()
            case .opening(let task):
                if case .success(let topic) = await task.value { await topic.close() }
            }
        }
        if let store = self.metadata as? DiskMetadataStore { await store.log.close() }
    }
}
