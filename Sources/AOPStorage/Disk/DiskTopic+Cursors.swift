extension DiskTopic {
    /// Opens a durable cursor. A cursor seen before (in this run or a previous one) resumes from its last
    /// durable checkpoint; a new one starts at position 0 and is recorded durably before this returns.
    public func cursor(named name: String) async throws(StorageError) -> any Cursor {
        try await self.durableCursor(named: name)
    }

    /// `cursor(named:)` with the concrete type.
    public func durableCursor(named name: String) async throws(StorageError) -> DurableCursor {
        if let failure, failure.code == .closed { throw failure }
        if let cursor = self.cursors[name] { return cursor }
        let stored = await self.cursorLog.values[name]
        let acks: AckRangeSet
        if let stored {
            guard let decoded = AckRangeSet(encoded: stored) else {
                throw StorageError(.corrupt, "cursor '\(name)' of topic '\(self.name)' has a malformed checkpoint")
            }
            acks = decoded
        } else {
            acks = AckRangeSet()
            try await self.cursorLog.write(name, acks.encoded())
        }
        if let cursor = self.cursors[name] { return cursor }  // opened while we were suspended
        let cursor = DurableCursor(name: name, acks: acks, log: self.cursorLog,
                                   checkpointInterval: self.environment.options.cursorCheckpointInterval)
        self.cursors[name] = cursor
        return cursor
    }

    public func deleteCursor(named name: String) async throws(StorageError) {
        if let failure, failure.code == .closed { throw failure }
        let stored = await self.cursorLog.values[name]
        guard self.cursors[name] != nil || stored != nil else {
            throw StorageError(.notFound, "cursor '\(name)' on topic '\(self.name)' not found")
        }
        // A pending deferred checkpoint must not write the name back after its delete record.
        await self.cursors.removeValue(forKey: name)?.close()
        try await self.cursorLog.write(name, nil)
    }

    /// Names of every cursor with a durable checkpoint.
    public func cursorNames() async -> [String] {
        await self.cursorLog.values.keys.sorted()
    }
}
