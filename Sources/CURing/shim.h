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
#include <liburing.h>

// Flag macros built from enum members are not imported by Swift; export them as constants.
static const unsigned char aop_IOSQE_IO_LINK = IOSQE_IO_LINK;
static const unsigned char aop_IOSQE_BUFFER_SELECT = IOSQE_BUFFER_SELECT;
static const unsigned char aop_IOSQE_FIXED_FILE = IOSQE_FIXED_FILE;
static const unsigned char aop_IOSQE_ASYNC = IOSQE_ASYNC;
#endif
