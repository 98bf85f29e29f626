import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Raises the soft open-file limit (RLIMIT_NOFILE) to the hard limit, as RabbitMQ's start script
/// does: every client connection is a descriptor, and a soft limit of 1,024 (a common default)
/// would refuse the 1,025th client. Logs the limit in force.
func raiseOpenFileLimit(logger: Logger) {
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    var limit = rlimit()
    guard getrlimit(resource, &limit) == 0 else {
        logger.warning("cannot read the open-file limit (errno \(errno))")
        return
    }
    let soft = limit.rlim_cur
    guard soft < limit.rlim_max else {
        logger.info("open-file limit \(describe(soft)) (already the hard limit)")
        return
    }
    limit.rlim_cur = limit.rlim_max
    if setrlimit(resource, &limit) == 0 {
        logger.notice("open-file limit raised from \(describe(soft)) to \(describe(limit.rlim_max)) (the hard limit)")
    } else {
        logger.warning("open-file limit \(describe(soft)); raising it to \(describe(limit.rlim_max)) failed (errno \(errno))")
    }
}

private func describe(_ value: rlim_t) -> String {
    value == rlim_t.max ? "unlimited" : "\(value)"  // RLIM_INFINITY is ~0
}
