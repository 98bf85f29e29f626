import AOPStorage
import Logging
import Synchronization

/// The `disk` resource alarm: raised when a storage append fails with ENOSPC, cleared when space returns.
///
/// Confirms: a publish whose append failed with ENOSPC is nacked (basic.nack, never basic.ack), so a
/// confirming publisher knows it was not stored and can republish after connection.unblocked. Publishes
/// that were stored are acked as usual. While the alarm is on, clients that announced the
/// `connection.blocked` capability get connection.blocked (reason `disk`).
///
/// Recovery: a task polls `StorageEngine.availableBytes()` every `diskProbeInterval`; once at least
/// `diskResumeFreeBytes` are free the alarm is cleared (connection.unblocked). An engine that cannot tell
/// (nil) gets the alarm cleared after one interval; the next ENOSPC raises it again.
extension Broker {
    /// How often the free space is checked while the disk alarm is on.
    static let diskProbeInterval: Duration = .milliseconds(500)
    /// Free bytes needed before the disk alarm clears.
    static let diskResumeFreeBytes: Int64 = 4 << 20

    /// Called when a storage append failed with ENOSPC: raises the `disk` alarm and starts polling for space.
    public func storageFull() async {
        if !self.alarms.isActive("disk") {
            self.logger.warning("disk full (ENOSPC): blocking publishers until space returns")
        }
        await self.setAlarm("disk", active: true)
        let start = self.diskProbeRunning.withLock { running in
            if running { return false }
            running = true
            return true
        }
        guard start else { return }
        Task { await self.pollDiskSpace() }
    }

    private func pollDiskSpace() async {
        while true {
            try? await Task.sleep(for: Self.diskProbeInterval)
            let free = await self.storage.availableBytes()
            if free.map({ $0 >= Self.diskResumeFreeBytes }) ?? true {
                // Clear under the flag so a concurrent `storageFull` either sees the probe running (and its
                // alarm is cleared here only if it was set before) or starts a new probe.
                self.diskProbeRunning.withLock { $0 = false }
                self.logger.notice("disk space available again (\(free.map { "\($0) bytes free" } ?? "unknown")): unblocking publishers")
                await self.setAlarm("disk", active: false)
                return
            }
        }
    }
}
