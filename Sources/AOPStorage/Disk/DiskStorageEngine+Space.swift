#if canImport(Glibc)
import Glibc
#endif

extension DiskStorageEngine {
    /// Free bytes for unprivileged writers on the file system holding `directory` (statvfs `f_bavail` ×
    /// `f_frsize`), or nil if statvfs fails (for example a simulated file system whose paths do not exist).
    ///
    /// This one call bypasses `AOPIO.FileSystem` (which has no statvfs): it reads no file and is only
    /// polled while the broker's disk alarm is on.
    public func availableBytes() async -> Int64? {
        var info = statvfs()
        guard statvfs(self.directory, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
