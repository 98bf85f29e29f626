import AOPStorage
import AOPWire

/// Durable definitions of one vhost in the `MetadataStore`.
///
/// Key layout (names percent-escaped: `%` → `%25`, `/` → `%2F`):
/// - `vhosts/<vhost>/exchanges/<name>` → exchange record (type, flags, arguments)
/// - `vhosts/<vhost>/queues/<name>` → queue record (auto-delete, arguments)
/// - `vhosts/<vhost>/bindings/<source>/<q|e>/<destination>/<hex of key+arguments>` → binding record
/// - `vhosts/<vhost>/topics/<topic name>` → `u32` message-topic id (kept after the exchange goes, since
///   queue index entries refer to it)
/// Values are `ByteBuffer`-encoded records (`u8 version` first); see the `encode` functions.
struct DefinitionStore: Sendable {
    let metadata: any MetadataStore
    let vhost: String

    var root: String { "vhosts/\(Self.escape(self.vhost))/" }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "%": out += "%25"
            case "/": out += "%2F"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    // MARK: exchanges

    func exchangeKey(_ name: String) -> String { self.root + "exchanges/" + Self.escape(name) }

    func save(_ d: ExchangeDefinition) async throws(StorageError) {
        var b = ByteBuffer()
        b.writeInteger(UInt8(1))
        b.writeStoredString(d.name)
        b.writeStoredString(d.type.rawValue)
        b.writeInteger(UInt8((d.durable ? 1 : 0) | (d.autoDelete ? 2 : 0) | (d.isInternal ? 4 : 0)))
        b.writeStoredTable(d.arguments)
        try await self.metadata.put(self.exchangeKey(d.name), b.storage)
    }

    func removeExchange(_ name: String) async throws(StorageError) {
        try await self.metadata.delete(self.exchangeKey(name))
    }

    func loadExchanges() async throws(StorageError) -> [ExchangeDefinition] {
        try await self.metadata.list(prefix: self.root + "exchanges/").compactMap { entry in
            var b = ByteBuffer(bytes: entry.value)
            guard b.readInteger(as: UInt8.self) == 1, let name = b.readStoredString(),
                  let typeName = b.readStoredString(), let type = ExchangeType(rawValue: typeName),
                  let flags = b.readInteger(as: UInt8.self), let args = b.readStoredTable()
            else { return nil }
            return ExchangeDefinition(name: name, type: type, durable: flags & 1 != 0, autoDelete: flags & 2 != 0,
                                      isInternal: flags & 4 != 0, arguments: args)
        }
    }

    // MARK: queues

    func queueKey(_ name: String) -> String { self.root + "queues/" + Self.escape(name) }

    func save(_ d: QueueDefinition) async throws(StorageError) {
        var b = ByteBuffer()
        b.writeInteger(UInt8(1))
        b.writeStoredString(d.name)
        b.writeInteger(UInt8(d.autoDelete ? 2 : 0))
        b.writeStoredTable(d.arguments)
        try await self.metadata.put(self.queueKey(d.name), b.storage)
    }

    func removeQueue(_ name: String) async throws(StorageError) {
        try await self.metadata.delete(self.queueKey(name))
    }

    func loadQueues() async throws(StorageError) -> [QueueDefinition] {
        try await self.metadata.list(prefix: self.root + "queues/").compactMap { entry in
            var b = ByteBuffer(bytes: entry.value)
            guard b.readInteger(as: UInt8.self) == 1, let name = b.readStoredString(),
                  let flags = b.readInteger(as: UInt8.self), let args = b.readStoredTable()
            else { return nil }
            return QueueDefinition(name: name, durable: true, exclusiveOwner: nil, autoDelete: flags & 2 != 0,
                                   arguments: args)
        }
    }

    // MARK: bindings

    func bindingKey(source: String, _ binding: Binding) -> String {
        var kb = ByteBuffer()
        kb.writeStoredString(binding.routingKey)
        kb.writeStoredTable(binding.arguments)
        let hex = kb.storage.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
        }.joined()
        let (kind, dest): (String, String) = switch binding.destination {
        case .queue(let q): ("q", q)
        case .exchange(let e): ("e", e)
        }
        return self.root + "bindings/" + Self.escape(source) + "/" + kind + "/" + Self.escape(dest) + "/" + hex
    }

    func save(source: String, _ binding: Binding) async throws(StorageError) {
        var b = ByteBuffer()
        b.writeInteger(UInt8(1))
        b.writeStoredString(source)
        switch binding.destination {
        case .queue(let q):
            b.writeInteger(UInt8(0))
            b.writeStoredString(q)
        case .exchange(let e):
            b.writeInteger(UInt8(1))
            b.writeStoredString(e)
        }
        b.writeStoredString(binding.routingKey)
        b.writeStoredTable(binding.arguments)
        try await self.metadata.put(self.bindingKey(source: source, binding), b.storage)
    }

    func remove(source: String, _ binding: Binding) async throws(StorageError) {
        try await self.metadata.delete(self.bindingKey(source: source, binding))
    }

    func loadBindings() async throws(StorageError) -> [(source: String, binding: Binding)] {
        try await self.metadata.list(prefix: self.root + "bindings/").compactMap { entry in
            var b = ByteBuffer(bytes: entry.value)
            guard b.readInteger(as: UInt8.self) == 1, let source = b.readStoredString(),
                  let kind = b.readInteger(as: UInt8.self), let dest = b.readStoredString(),
                  let key = b.readStoredString(), let args = b.readStoredTable()
            else { return nil }
            let destination: Destination = kind == 0 ? .queue(dest) : .exchange(dest)
            return (source, Binding(destination: destination, routingKey: key, arguments: args))
        }
    }

    // MARK: message topic ids

    func saveTopicID(_ id: UInt32, topic: String) async throws(StorageError) {
        var b = ByteBuffer()
        b.writeInteger(id)
        try await self.metadata.put(self.root + "topics/" + Self.escape(topic), b.storage)
    }

    /// Topic name → id for every message topic this vhost ever created.
    func loadTopicIDs() async throws(StorageError) -> [(topic: String, id: UInt32)] {
        let prefix = self.root + "topics/"
        return try await self.metadata.list(prefix: prefix).compactMap { entry in
            var b = ByteBuffer(bytes: entry.value)
            guard let id = b.readInteger(as: UInt32.self) else { return nil }
            return (Self.unescape(String(entry.key.dropFirst(prefix.count))), id)
        }
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences("%2F", with: "/").replacingOccurrences("%25", with: "%")
    }
}

extension String {
    /// Plain substring replacement (no Foundation in the broker targets).
    fileprivate func replacingOccurrences(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}
