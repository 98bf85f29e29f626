public import AOPBroker
public import AOPIO
public import Logging

/// Everything `aop-server` runs with: where to listen, where data lives, and the broker's settings.
/// Built from defaults, then the config file, then command-line flags (each overriding the previous).
public struct ServerConfiguration: Sendable {
    public var bind: String = "127.0.0.1"
    public var port: UInt16 = 5672
    public var dataDirectory: String = "./data"
    public var logLevel: Logger.Level = .info
    /// io_uring rings (one thread each) serving connections.
    public var ioThreads: Int = 1
    public var broker = BrokerConfiguration()
    /// Storage: segment file size, and retention of consumed segments (Pulsar's policy: a consumed segment
    /// is kept while younger than `retentionTime` or while the topic is under `retentionSize`; nil does not
    /// hold data back; `retainForever` keeps everything).
    public var segmentSize: UInt64 = 64 << 20
    public var retentionTime: Duration?
    public var retentionSize: UInt64?
    public var retainForever = false
    /// Zeroed, synced bytes kept ahead of each active segment's data (0 = off); see Docs/Storage.md.
    public var preallocationBytes: Int = 4 << 20
    /// Commit rounds (fdatasync sets) that may run at once.
    public var commitRoundsInFlight: Int = 3
    /// Batches per topic written but not yet durable (1 or 2).
    public var unsyncedBatches: Int = 2
    /// Resident memory above which publishers are blocked (RabbitMQ's `vm_memory_high_watermark`).
    public var memoryHighWatermark: MemoryWatermark = .relative(0.4)
    /// Faults injected into every accepted socket, for stress tests only (`--socket-faults`,
    /// `AOP_SOCKET_FAULTS`; Docs/Testing.md). Off by default.
    public var socketFaults: SocketFaults = .none

    public enum MemoryWatermark: Sendable, Hashable {
        /// A fraction of physical memory.
        case relative(Double)
        /// Bytes.
        case absolute(UInt64)
    }

    public init() {}
}
