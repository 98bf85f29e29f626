import AOPIO
import Logging

/// What every disk topic shares with its engine.
struct TopicEnvironment: Sendable {
    var fileSystem: any FileSystem
    var scheduler: DurabilityScheduler
    var options: DiskStorageOptions
    var logger: Logger
    var counters: StorageCounters
}
