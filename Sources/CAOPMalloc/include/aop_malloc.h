#ifndef AOP_MALLOC_H
#define AOP_MALLOC_H
#include <stddef.h>
// glibc malloc tuning for aop-server (mallopt's M_* parameters are macros from <malloc.h>, which the
// Glibc module does not import). Each setter returns 1 on success, 0 when glibc refused the value or the
// C library is not glibc.

/// Most arenas malloc creates (glibc default: 8 per core); fewer arenas keep less freed memory.
int aop_malloc_set_arena_max(int value);
/// Size from which a request is served by its own mmap (returned to the system on free). Setting it
/// also turns off glibc's dynamic threshold, which otherwise rises with every large free (up to 32 MiB).
int aop_malloc_set_mmap_threshold(int value);
/// Free memory at the top of the heap above which free() gives it back to the system.
int aop_malloc_set_trim_threshold(int value);
/// Gives free memory of every arena back to the system (malloc_trim(0)); 1 when some was released.
int aop_malloc_trim(void);
/// Bytes of the heap in use and free (kept by malloc, not mapped out) over every arena (mallinfo2's
/// uordblks and fordblks; mmapped chunks excluded); 1 on glibc, 0 (and zeros) elsewhere.
int aop_malloc_heap(size_t *in_use, size_t *free_bytes);
#endif
