#include "aop_malloc.h"
#include <stdlib.h>  // defines __GLIBC__ (via <features.h>) on glibc

#if defined(__GLIBC__)
#include <malloc.h>

int aop_malloc_set_arena_max(int value) { return mallopt(M_ARENA_MAX, value); }
int aop_malloc_set_mmap_threshold(int value) { return mallopt(M_MMAP_THRESHOLD, value); }
int aop_malloc_set_trim_threshold(int value) { return mallopt(M_TRIM_THRESHOLD, value); }
int aop_malloc_trim(void) { return malloc_trim(0); }
int aop_malloc_heap(size_t *in_use, size_t *free_bytes) {
    struct mallinfo2 info = mallinfo2();
    *in_use = info.uordblks;
    *free_bytes = info.fordblks;
    return 1;
}
#else
int aop_malloc_set_arena_max(int value) { (void)value; return 0; }
int aop_malloc_set_mmap_threshold(int value) { (void)value; return 0; }
int aop_malloc_set_trim_threshold(int value) { (void)value; return 0; }
int aop_malloc_trim(void) { return 0; }
int aop_malloc_heap(size_t *in_use, size_t *free_bytes) { *in_use = 0; *free_bytes = 0; return 0; }
#endif
