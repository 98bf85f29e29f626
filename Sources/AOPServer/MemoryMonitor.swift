import AOPBroker
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The memory alarm: while the process's resident memory is above the high watermark, the broker's
/// "memory" alarm is on (publishing connections get connection.blocked and are not read), as RabbitMQ's
/// `vm_memory_high_watermark`.
struct MemoryMonitor: Sendable {
    let limitBytes: UInt64
    let interval: Duration

    /// Resident set size of this process, from /proc/self/statm.
    static func residentBytes() -> UInt64? {
        guard let f = fopen("/proc/self/statm", "r") else { return nil }
        defer { fclose(f) }
        var size: UInt = 0
        var resident: UInt = 0
        guard fscanf_statm(f, &size, &resident) else { return nil }
        return UInt64(resident) * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func physicalMemory() -> UInt64 {
        UInt64(sysconf(Int32(_SC_PHYS_PAGES))) * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }

    func run(broker: Broker, logger: Logger) async {
        var alarmed = false
        while !Task.isCancelled {
            if let rss = Self.residentBytes() {
                let over = rss > self.limitBytes
                if over != alarmed {
                    alarmed = over
                    if over {
                        logger.warning("memory alarm set: resident \(rss) bytes > high watermark \(self.limitBytes)")
                    } else {
                        logger.notice("memory alarm cleared: resident \(rss) bytes")
                    }
                    await broker.setAlarm("memory", active: over)
                }
            }
            do {
                try await Task.sleep(for: self.interval)
            } catch {
                return
            }
        }
    }
}

/// Reads the first two numbers of /proc/self/statm (total and resident pages).
private func fscanf_statm(_ f: UnsafeMutablePointer<FILE>, _ size: inout UInt, _ resident: inout UInt) -> Bool {
    var line = [CChar](repeating: 0, count: 256)
    guard fgets(&line, Int32(line.count), f) != nil else { return false }
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let parts = text.split(separator: " ")
    guard parts.count >= 2, let s = UInt(parts[0]), let r = UInt(parts[1]) else { return false }
    size = s
    resident = r
    return true
}
