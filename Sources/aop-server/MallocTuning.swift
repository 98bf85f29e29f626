import CAOPMalloc
#if canImport(Glibc)
import Glibc
#endif

/// glibc malloc settings aop-server applies at start-up, before the rings and the storage start.
///
/// Measured with `Benchmarks/backlog/run.sh` (1,000,000 × 1 KiB persistent, 4 publishers): glibc's
/// dynamic mmap threshold rises with every large free (up to 32 MiB), after which the publish path's
/// transient buffers (received chunks, batches of records, segment writes) come from the heap and stay
/// resident once freed: 55–61 MiB RSS after the fill. A fixed threshold serves those from their own
/// mappings, returned on free: 256 KiB gave 44–47 MiB, 512 KiB 47 MiB, 1 MiB 48–53 MiB; 512 KiB maps
/// and unmaps half as often as 256 KiB for about the same memory. Two arenas (glibc's default is 8 per
/// core) bound what each thread's arena keeps; that alone changed nothing measurable, with the threshold
/// it did no harm. glibc's own variables (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_ARENA_MAX`, `MALLOC_TRIM_THRESHOLD_`)
/// take precedence: a parameter whose variable is set is left as the variable chose it.
enum MallocTuning {
    static let mmapThreshold: Int32 = 512 * 1024
    static let arenaMax: Int32 = 2

    /// Applies the defaults above where the environment does not set the parameter; returns what was
    /// applied, for the start-up log.
    @discardableResult
    static func apply() -> [String] {
        var applied: [String] = []
        if getenv("MALLOC_MMAP_THRESHOLD_") == nil, aop_malloc_set_mmap_threshold(Self.mmapThreshold) == 1 {
            applied.append("mmap_threshold=\(Self.mmapThreshold)")
        }
        if getenv("MALLOC_ARENA_MAX") == nil, aop_malloc_set_arena_max(Self.arenaMax) == 1 {
            applied.append("arena_max=\(Self.arenaMax)")
        }
        return applied
    }
}
