import AOPIO
import Logging

/// An append-only log of put/delete records keyed by string, loaded into memory at open; the latest
/// record per key wins. Used for the definitions (metadata) log and for each topic's cursor log.
///
/// Record (little-endian): `length u32 | crc32c u32 | op u8 | keyLength u16 | key | value`, where
/// `length` counts from `op` to the end and the checksum covers the same bytes. op 1 = put, 2 = delete.
/// Loading stops at the first bad record (a torn tail) and truncates it. Writes are batched (a key
/// written several times while a batch is pending is written once) and group-committed; callers
/// resume once their record is durable. When the file is larger than the compaction threshold and
/// more than twice the live data, it is rewritten: new file, fsync, rename over the old, fsync directory.
actor KeyValueLog {
    private typealias Waiter = CheckedContinuation<Result<Void, StorageError>, Never>

    let path: String
    private let directory: String
    private let fileSystem: any FileSystem
    private let scheduler: DurabilityScheduler
    private let logger: Logger
    private let compactionThreshold: UInt64
    private var file: any AsyncFile
    private var size: UInt64
    /// Durable values.
    private(set) var values: [String: [UInt8]]
    private var pendingOrder: [String] = []
    private var pending: [String: (value: [UInt8]?, waiters: [Waiter])] = [:]
    private var writing = false
    private var failure: StorageError?

    private init(path: String, directory: String, fileSystem: any FileSystem, scheduler: DurabilityScheduler,
                 logger: Logger, compactionThreshold: UInt64, file: any AsyncFile, size: UInt64,
                 values: [String: [UInt8]]) {
        self.path = path
        self.directory = directory
        self.fileSystem = fileSystem
        self.scheduler = scheduler
        self.logger = logger
        self.compactionThreshold = compactionThreshold
        self.file = file
        self.size = size
        self.values = values
    }

    /// Opens (creating) the log at `directory/name`, truncating a torn tail and compacting when large.
    static func open(directory: String, name: String, fileSystem: any FileSystem, scheduler: DurabilityScheduler,
                     logger: Logger, compactionThreshold: UInt64) async throws(StorageError) -> KeyValueLog {
        let path = directory + "/" + name
        let temporary = path + ".compact"
        do throws(IOError) {
            if fileSystem.fileExists(path: temporary) { try fileSystem.remove(path: temporary) }
            let existed = fileSystem.fileExists(path: path)
            let file = try await fileSystem.open(path: path, create: true)
            if !existed { try await fileSystem.syncDirectory(path: directory) }
            let size = try await file.size()
            let bytes = size == 0 ? [] : try await file.read(count: Int(size), at: 0)
            var values: [String: [UInt8]] = [:]
            let validEnd = Self.load(bytes, into: &values)
            if validEnd < bytes.count {
                logger.warning("truncating torn tail of \(path)",
                               metadata: ["offset": "\(validEnd)", "bytes": "\(bytes.count - validEnd)"])
                try await file.truncate(to: UInt64(validEnd))
                try await file.sync()
            }
            let log = KeyValueLog(path: path, directory: directory, fileSystem: fileSystem, scheduler: scheduler,
                                  logger: logger, compactionThreshold: compactionThreshold, file: file,
                                  size: UInt64(validEnd), values: values)
            try await log.compactIfLarge()
            return log
        } catch {
            throw StorageError(error, "opening \(path)")
        }
    }

    /// Applies every valid record in `bytes`; returns the offset after the last valid one.
    static func load(_ bytes: [UInt8], into values: inout [String: [UInt8]]) -> Int {
        var offset = 0
        while bytes.count - offset >= 11 {
            let length = Int(bytes.loadLittleEndian(UInt32.self, at: offset))
            guard length >= 3, bytes.count - offset - 8 >= length else { break }
            let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            guard CRC32C.checksum(body) == bytes.loadLittleEndian(UInt32.self, at: offset + 4) else { break }
            let keyLength = Int(body.loadLittleEndian(UInt16.self, at: 1))
            guard 3 + keyLength <= body.count, let key = String(validating: body[3..<(3 + keyLength)], as: UTF8.self)
            else { break }
            switch body[0] {
            case 1: values[key] = Array(body[(3 + keyLength)...])
            case 2: values.removeValue(forKey: key)
            default: return offset
            }
            offset += 8 + length
        }
        return offset
    }

    static func record(key: String, value: [UInt8]?) -> [UInt8] {
        var body: [UInt8] = [value == nil ? 2 : 1]
        let keyBytes = Array(key.utf8)
        body.appendLittleEndian(UInt16(keyBytes.count))
        body.append(contentsOf: keyBytes)
        if let value { body.append(contentsOf: value) }
        var record: [UInt8] = []
        record.reserveCapacity(8 + body.count)
        record.appendLittleEndian(UInt32(body.count))
        record.appendLittleEndian(CRC32C.checksum(body))
        record.append(contentsOf: body)
        return record
    }

    /// The current file size (for tests of compaction).
    var fileSize: UInt64 { self.size }

    /// Durably sets (`value` non-nil) or deletes a key.
    func write(_ key: String, _ value: [UInt8]?) async throws(StorageError) {
        if let failure { throw failure }
        guard key.utf8.count <= Int(UInt16.max) else { throw StorageError(.io, "key too long") }
        let result = await withCheckedContinuation { (waiter: Waiter) in
            if self.pending[key] == nil {
                self.pendingOrder.append(key)
                self.pending[key] = (value, [waiter])
            } else {
                self.pending[key]!.value = value
                self.pending[key]!.waiters.append(waiter)
            }
            if !self.writing {
                self.writing = true
                Task { await self.drain() }
            }
        }
        try result.get()
    }

    private func drain() async {
        while !self.pendingOrder.isEmpty {
            let order = self.pendingOrder
            let batch = self.pending
            self.pendingOrder = []
            self.pending = [:]
            var bytes: [UInt8] = []
            for key in order { bytes += Self.record(key: key, value: batch[key]!.value) }
            let result = await self.append(bytes)
            if case .success = result {
                for key in order {
                    if let value = batch[key]!.value { self.values[key] = value } else { self.values.removeValue(forKey: key) }
                }
            }
            for key in order { for waiter in batch[key]!.waiters { waiter.resume(returning: result) } }
            if case .success = result {
                do throws(IOError) {
                    try await self.compactIfLarge()
                } catch {
                    self.logger.error("compacting \(self.path) failed", metadata: ["error": "\(error)"])
                }
            }
        }
        self.writing = false
    }

    private func append(_ bytes: [UInt8]) async -> Result<Void, StorageError> {
        if let failure = self.failure { return .failure(failure) }
        let start = self.size
        do throws(IOError) {
            try await self.file.write(bytes, at: start)
        } catch {
            // Leave no partial record behind (ENOSPC); the next write overwrites this offset anyway.
            try? await self.file.truncate(to: start)
            return .failure(StorageError(error, "writing \(self.path)"))
        }
        do throws(StorageError) {
            try await self.scheduler.commit(self.file)
        } catch {
            // After a failed fdatasync the file's state is unknown: refuse further writes.
            self.failure = error
            return .failure(error)
        }
        self.size = start + UInt64(bytes.count)
        return .success(())
    }

    private func compactIfLarge() async throws(IOError) {
        guard self.size > self.compactionThreshold else { return }
        var live: [UInt8] = []
        for key in self.values.keys.sorted() { live += Self.record(key: key, value: self.values[key]) }
        guard self.size > 2 * UInt64(live.count) else { return }
        let temporary = self.path + ".compact"
        let newFile = try await self.fileSystem.open(path: temporary, create: true)
        try await newFile.truncate(to: 0)
        try await newFile.write(live, at: 0)
        try await newFile.sync()
        try self.fileSystem.rename(from: temporary, to: self.path)
        try await self.fileSystem.syncDirectory(path: self.directory)
        let old = self.file
        self.file = newFile
        self.logger.info("compacted \(self.path)", metadata: ["from": "\(self.size)", "to": "\(live.count)"])
        self.size = UInt64(live.count)
        await old.close()
    }

    func close() async {
        await self.file.close()
    }
}
