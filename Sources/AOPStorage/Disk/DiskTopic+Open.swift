import AOPIO
import Logging

extension DiskTopic {
    /// Opens (creating) the topic in `directory` and recovers it: segment headers are checked, the last
    /// segment is scanned entirely, a torn tail is truncated (and logged), damaged entries are counted
    /// and skipped. Sealed segments are indexed lazily on first read.
    static func open(name: String, directory: String, environment: TopicEnvironment) async throws(StorageError)
        -> DiskTopic
    {
        let fileSystem = environment.fileSystem
        let logger = environment.logger
        let options = environment.options
        var segments: [Segment] = []
        do throws(IOError) {
            if !fileSystem.fileExists(path: directory) {
                try fileSystem.createDirectory(path: directory)
                try await fileSystem.syncDirectory(path: parent(of: directory))
            }
            let names = try fileSystem.listDirectory(path: directory)
                .compactMap { name in SegmentFormat.firstPosition(fileName: name).map { (name, $0) } }
                .sorted { $0.1 < $1.1 }
            for (fileName, firstPosition) in names {
                let path = directory + "/" + fileName
                let file = try await fileSystem.open(path: path, create: false)
                let size = try await file.size()
                let header = SegmentFormat.parseHeader(size >= 24 ? try await file.read(count: 24, at: 0) : [])
                if header == nil || header?.firstPosition != firstPosition {
                    logger.error("segment has a bad header", metadata: ["segment": "\(path)", "size": "\(size)"])
                }
                segments.append(Segment(firstPosition: firstPosition, createdAt: header?.createdAt ?? 0, path: path,
                                        file: file, size: size, endPosition: firstPosition, scan: nil))
            }
            // A last segment whose header never became durable was being created: drop it. (Entries are
            // written only after the header is synced, so such a file holds no more than a header's bytes.
            // A bad header on a longer file is damage: the file is kept and its entries are scanned.)
            while let last = segments.last, last.size <= UInt64(SegmentFormat.headerSize), last.createdAt == 0 {
                logger.warning("removing a segment whose creation did not complete", metadata: ["segment": "\(last.path)"])
                await last.file?.close()
                try fileSystem.remove(path: last.path)
                try await fileSystem.syncDirectory(path: directory)
                segments.removeLast()
            }
            for i in segments.indices.dropLast() { segments[i].endPosition = segments[i + 1].firstPosition }
            if let last = segments.last, let file = last.file {
                let scan = try await SegmentScan.scan(file: file, size: Int(last.size), firstPosition: last.firstPosition,
                                                      endPosition: nil, indexInterval: options.indexInterval,
                                                      maxEntrySize: options.maxEntrySize)
                if scan.tornBytes > 0 {
                    logger.warning("truncating torn tail", metadata: [
                        "segment": "\(last.path)", "offset": "\(scan.validEnd)", "bytes": "\(scan.tornBytes)",
                        "next-position": "\(scan.nextPosition)",
                    ])
                    try await file.truncate(to: UInt64(scan.validEnd))
                    try await file.sync()
                    environment.counters.update { $0.truncatedBytes += UInt64(scan.tornBytes) }
                }
                if scan.corruptPositions > 0 {
                    logger.error("corrupt entries in segment; they will be skipped",
                                 metadata: ["segment": "\(last.path)", "entries": "\(scan.corruptPositions)"])
                    environment.counters.update { $0.corruptEntries += scan.corruptPositions }
                }
                last.size = UInt64(scan.validEnd)
                last.writtenEnd = last.size
                // A zero tail is kept: those blocks are already allocated for the next appends.
                last.allocatedEnd = UInt64(scan.validEnd + scan.zeroTailBytes)
                last.endPosition = scan.nextPosition
                last.scan = scan
            }
        } catch {
            throw StorageError(error, "recovering topic '\(name)'")
        }
        let cursorLog = try await KeyValueLog.open(directory: directory, name: "cursors.log", fileSystem: fileSystem,
                                                   scheduler: environment.scheduler, logger: logger,
                                                   compactionThreshold: options.compactionThreshold)
        let topic = DiskTopic(name: name, directory: directory, environment: environment, segments: segments,
                              cursorLog: cursorLog)
        try await topic.createFirstSegment()
        return topic
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
