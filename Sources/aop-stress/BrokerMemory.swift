#if canImport(Glibc)
import Glibc
#endif

/// Resident memory of the broker process, from /proc/<pid>/status (Linux; the broker on this machine).
enum BrokerMemory {
    /// VmRSS in bytes, or nil when the process or the file is not there.
    static func residentBytes(pid: Int32) -> UInt64? {
        guard let file = fopen("/proc/\(pid)/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("VmRSS:") {
                let digits = text.dropFirst(6).filter(\.isNumber)
                return UInt64(digits).map { $0 * 1024 }
            }
        }
        return nil
    }
}
