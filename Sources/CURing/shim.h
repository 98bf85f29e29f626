#ifndef AOP_CURING_SHIM_H
#define AOP_CURING_SHIM_H
// Order matters: liburing.h defines _GNU_SOURCE/_XOPEN_SOURCE, which renames fd_set members.
// Including the system headers first keeps Glibc's and CURing's fd_set identical.
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <errno.h>
#include <sys/prctl.h>
#include <liburing.h>

// Flag macros built from enum members are not imported by Swift; export them as constants.
static const unsigned char aop_IOSQE_IO_LINK = IOSQE_IO_LINK;
static const unsigned char aop_IOSQE_BUFFER_SELECT = IOSQE_BUFFER_SELECT;
static const unsigned char aop_IOSQE_FIXED_FILE = IOSQE_FIXED_FILE;
static const unsigned char aop_IOSQE_ASYNC = IOSQE_ASYNC;
static const unsigned int aop_IORING_CQE_F_MORE = IORING_CQE_F_MORE;
static const unsigned int aop_IORING_CQE_F_BUFFER = IORING_CQE_F_BUFFER;
static const unsigned int aop_IORING_FSYNC_DATASYNC = IORING_FSYNC_DATASYNC;
static const unsigned int aop_IORING_ASYNC_CANCEL_ANY = IORING_ASYNC_CANCEL_ANY;
static const unsigned int aop_IORING_CQE_BUFFER_SHIFT = IORING_CQE_BUFFER_SHIFT;

// Sets the provided-buffer group of an SQE (a member of an anonymous union in the kernel header).
static inline void aop_sqe_set_buf_group(struct io_uring_sqe *sqe, unsigned short group) {
    sqe->buf_group = group;
}

// Names the calling thread (pthread_setname_np needs _GNU_SOURCE before the first libc header).
static inline void aop_set_thread_name(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

// ThreadSanitizer annotations. The TSan runtime (linked only into `-sanitize=thread` builds) defines
// these; elsewhere the weak references are null and the calls do nothing. Used where threads
// synchronize through something TSan cannot see: Synchronization.Mutex takes its contended path
// through PI-futex syscalls in the uninstrumented Swift runtime (see Sources/AOPIO/Support/ThreadSanitizer.swift).
extern void __tsan_acquire(void *addr) __attribute__((weak));
extern void __tsan_release(void *addr) __attribute__((weak));
static inline void aop_tsan_acquire(void *addr) {
    if (__tsan_acquire) __tsan_acquire(addr);
}
static inline void aop_tsan_release(void *addr) {
    if (__tsan_release) __tsan_release(addr);
}
#endif
