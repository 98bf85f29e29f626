import AOPIO
import Glibc
import Synchronization

/// An in-memory `FileSystem` for storage tests. It keeps, per file, the bytes a reader sees and the bytes
/// that are durable (as of the last `sync`), and per directory which names are durable (as of the last
/// `syncDirectory`). `crash(seed:)` throws away or tears what was not synced, at random but reproducibly,
/// and invalidates every open handle, as a power cut followed by a reboot would. A byte capacity makes
/// writes fail with ENOSPC (after writing what fits, like a real short write).
final class SimulatedFileSystem: FileSystem {
    struct Node {
        var current: [UInt8] = []
        var durable: [UInt8] = []
    }

    struct State {
        var nodes: [Int: Node] = [:]
        var nextID = 0
        var names: [String: Int] = [:]
        var durableNames: [String: Int] = [:]
        var directories: Set<String> = ["/"]
        var generation = 0
        var capacity: Int?
        var syncs = 0
        var directorySyncs = 0
        var syncsByPath: [String: Int] = [:]
    }

    let state = Mutex(State())
    /// Sleep inside every file sync, so that concurrent appends pile up behind a commit round.
    let syncDelay: Duration?

    init(syncDelay: Duration? = nil) {
        self.syncDelay = syncDelay
    }

    // MARK: test controls

    /// Number of file syncs so far.
    var syncCount: Int { self.state.withLock(orderedFor: self) { $0.syncs } }
    var directorySyncCount: Int { self.state.withLock(orderedFor: self) { $0.directorySyncs } }

    /// Limits the total bytes of all files; nil = unlimited.
    func setCapacity(_ bytes: Int?) { self.state.withLock(orderedFor: self) { $0.capacity = bytes } }

    /// Total bytes in use (current contents of every named file).
    var usedBytes: Int { self.state.withLock(orderedFor: self) { s in s.names.values.reduce(0) { $0 + s.nodes[$1]!.current.count } } }

    /// What a reader sees in the file now.
    func contents(of path: String) -> [UInt8]? {
        self.state.withLock(orderedFor: self) { s in s.names[path].map { s.nodes[$0]!.current } }
    }

    /// Flips bits in a byte of a file, durable and current alike (bit rot).
    func corrupt(path: String, at offset: Int) {
        self.state.withLock(orderedFor: self) { s in
            let id = s.names[path]!
            s.nodes[id]!.current[offset] ^= 0x5A
            if offset < s.nodes[id]!.durable.count { s.nodes[id]!.durable[offset] ^= 0x5A }
        }
    }

    /// Replaces a file's contents (durably), e.g. to append garbage as a torn write would.
    func overwrite(path: String, with bytes: [UInt8]) {
        self.state.withLock(orderedFor: self) { s in
            let id = s.names[path]!
            s.nodes[id]!.current = bytes
            s.nodes[id]!.durable = bytes
        }
    }

    /// Simulates a power cut: unsynced bytes are dropped, kept, or torn per 512-byte block; unsynced
    /// directory changes are kept or reverted per name. Every handle opened before is dead afterwards.
    func crash(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        self.state.withLock(orderedFor: self) { s in
            s.generation += 1
            for id in s.nodes.keys.sorted() {
                let node = s.nodes[id]!
                guard node.current != node.durable else { continue }
                let choice = rng.next() % 3
                var result: [UInt8]
                if choice == 0 {
                    result = node.durable
                } else if choice == 1 {
                    result = node.current
                } else {
                    let low = min(node.current.count, node.durable.count)
                    let high = max(node.current.count, node.durable.count)
                    let length = low + Int(rng.next() % UInt64(high - low + 1))
                    result = [UInt8](repeating: 0, count: length)
                    var block = 0
                    while block < length {
                        let source = rng.next() % 2 == 0 ? node.current : node.durable
                        for i in block..<min(block + 512, length) where i < source.count { result[i] = source[i] }
                        block += 512
                    }
                }
                s.nodes[id] = Node(current: result, durable: result)
            }
            var names: [String: Int] = [:]
            for path in Set(s.names.keys).union(s.durableNames.keys).sorted() {
                let keep = rng.next() % 2 == 0 ? s.names[path] : s.durableNames[path]
                if let keep { names[path] = keep }
            }
            s.names = names
            s.durableNames = names
            for path in names.keys { Self.addDirectory(Self.parent(of: path), to: &s.directories) }
        }
    }

    // MARK: FileSystem

    func open(path: String, create: Bool) async throws(IOError) -> any AsyncFile {
        try self.state.withLock(orderedFor: self) { (s) throws(IOError) -> SimulatedFile in
            if let id = s.names[path] { return SimulatedFile(fs: self, id: id, path: path, generation: s.generation) }
            guard create else { throw IOError(errno: ENOENT, operation: "open \(path)") }
            guard s.directories.contains(Self.parent(of: path)) else { throw IOError(errno: ENOENT, operation: "open \(path)") }
            let id = s.nextID
            s.nextID += 1
            s.nodes[id] = Node()
            s.names[path] = id
            return SimulatedFile(fs: self, id: id, path: path, generation: s.generation)
        }
    }

    func remove(path: String) throws(IOError) {
        try self.state.withLock(orderedFor: self) { (s) throws(IOError) in
            if s.names.removeValue(forKey: path) != nil { return }
            if s.directories.contains(path) {
                let prefix = path + "/"
                guard !s.names.keys.contains(where: { $0.hasPrefix(prefix) }),
                      !s.directories.contains(where: { $0.hasPrefix(prefix) })
                else { throw IOError(errno: ENOTEMPTY, operation: "remove \(path)") }
                s.directories.remove(path)
                return
            }
            throw IOError(errno: ENOENT, operation: "remove \(path)")
        }
    }

    func rename(from: String, to: String) throws(IOError) {
        try self.state.withLock(orderedFor: self) { (s) throws(IOError) in
            guard let id = s.names.removeValue(forKey: from) else { throw IOError(errno: ENOENT, operation: "rename \(from)") }
            s.names[to] = id
        }
    }

    func listDirectory(path: String) throws(IOError) -> [String] {
        try self.state.withLock(orderedFor: self) { (s) throws(IOError) -> [String] in
            guard s.directories.contains(path) else { throw IOError(errno: ENOENT, operation: "list \(path)") }
            let children = s.names.keys.filter { Self.parent(of: $0) == path }
                + s.directories.filter { $0 != path && Self.parent(of: $0) == path }
            return children.map { String($0.dropFirst(path == "/" ? 1 : path.count + 1)) }.sorted()
        }
    }

    func createDirectory(path: String) throws(IOError) {
        self.state.withLock(orderedFor: self) { Self.addDirectory(path, to: &$0.directories) }
    }

    func fileExists(path: String) -> Bool {
        self.state.withLock(orderedFor: self) { $0.names[path] != nil || $0.directories.contains(path) }
    }

    func syncDirectory(path: String) async throws(IOError) {
        self.state.withLock(orderedFor: self) { s in
            s.directorySyncs += 1
            for name in Set(s.names.keys).union(s.durableNames.keys) where Self.parent(of: name) == path {
                s.durableNames[name] = s.names[name]
            }
        }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func addDirectory(_ path: String, to directories: inout Set<String>) {
        var path = path
        while !path.isEmpty, path != "/", path != ".", directories.insert(path).inserted {
            path = parent(of: path)
        }
    }
}

/// A handle on a simulated file; dead (EIO) after a crash.
final class SimulatedFile: AsyncFile {
    let fs: SimulatedFileSystem
    let id: Int
    let path: String
    let generation: Int

    init(fs: SimulatedFileSystem, id: Int, path: String, generation: Int) {
        self.fs = fs
        self.id = id
        self.path = path
        self.generation = generation
    }

    private func withNode<T>(_ operation: String, _ body: (inout SimulatedFileSystem.State) throws(IOError) -> T)
        throws(IOError) -> T
    {
        try self.fs.state.withLock(orderedFor: self.fs) { (s) throws(IOError) -> T in
            guard s.generation == self.generation, s.nodes[self.id] != nil else {
                throw IOError(errno: EIO, operation: "\(operation) \(self.path)")
            }
            return try body(&s)
        }
    }

    func size() async throws(IOError) -> UInt64 {
        try self.withNode("size") { UInt64($0.nodes[self.id]!.current.count) }
    }

    func write(_ bytes: [UInt8], at offset: UInt64) async throws(IOError) {
        try self.withNode("write") { (s) throws(IOError) in
            var node = s.nodes[self.id]!
            let end = Int(offset) + bytes.count
            var writable = bytes.count
            if let capacity = s.capacity {
                let used = s.names.values.reduce(0) { $0 + s.nodes[$1]!.current.count }
                let growth = max(0, end - node.current.count)
                if used + growth > capacity { writable = max(0, bytes.count - (used + growth - capacity)) }
            }
            let writeEnd = Int(offset) + writable
            if node.current.count < writeEnd { node.current += [UInt8](repeating: 0, count: writeEnd - node.current.count) }
            for i in 0..<writable { node.current[Int(offset) + i] = bytes[i] }
            s.nodes[self.id] = node
            if writable < bytes.count { throw IOError(errno: ENOSPC, operation: "write \(self.path)") }
        }
    }

    func read(count: Int, at offset: UInt64) async throws(IOError) -> [UInt8] {
        try self.withNode("read") { s in
            let data = s.nodes[self.id]!.current
            let start = min(Int(offset), data.count)
            return Array(data[start..<min(start + count, data.count)])
        }
    }

    func sync() async throws(IOError) {
        if let delay = self.fs.syncDelay { try? await Task.sleep(for: delay) }
        try self.withNode("fdatasync") { s in
            s.nodes[self.id]!.durable = s.nodes[self.id]!.current
            s.syncs += 1
            s.syncsByPath[self.path, default: 0] += 1
        }
    }

    func truncate(to size: UInt64) async throws(IOError) {
        try self.withNode("truncate") { s in
            var data = s.nodes[self.id]!.current
            if data.count > Int(size) { data.removeLast(data.count - Int(size)) } else {
                data += [UInt8](repeating: 0, count: Int(size) - data.count)
            }
            s.nodes[self.id]!.current = data
        }
    }

    func close() async {}
}
