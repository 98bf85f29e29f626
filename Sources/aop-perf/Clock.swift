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
