import Glibc

/// Monotonic time in nanoseconds (CLOCK_MONOTONIC), comparable across threads of this process.
@inline(__always)
func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// This process's CPU time (user, system) in seconds.
func cpuSeconds() -> (user: Double, system: Double) {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return (seconds(usage.ru_utime), seconds(usage.ru_stime))
}

/// Writes a line to stderr unbuffered (progress survives a kill).
func printError(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { Glibc.write(2, $0, strlen($0)) }
}

/// Writes a line to stdout unbuffered.
func printOutput(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { Glibc.write(1, $0, strlen($0)) }
}

/// Raises the open-file soft limit to the hard limit (many connections).
func raiseFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}

/// Keeps freed memory in the process instead of trimming the heap after every large free: the load loops
/// allocate and free receive chunks continuously, and re-faulting trimmed pages cost a quarter of the CPU
/// (kernel `clear_page`) in a profile of the consume path.
func tuneMalloc() {
    // <malloc.h> is not part of the Glibc module; the constants are glibc's M_TRIM_THRESHOLD (-1),
    // M_TOP_PAD (-2) and M_MMAP_THRESHOLD (-3).
    _ = glibcMallopt(-1, 512 << 20)
    _ = glibcMallopt(-2, 64 << 20)
    _ = glibcMallopt(-3, 4 << 20)
}

@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
