/*
 * fsync-latency: how long one write + fdatasync takes on this disk, in the patterns aop's storage uses.
 *
 *   append:    write N bytes at the end of the file (the size grows: ext4 must journal the new size)
 *   overwrite: write N bytes inside a file whose blocks were written (zeros) and synced beforehand
 *              (no metadata change: fdatasync flushes only the data)
 *   two-files: append to two files, then fdatasync both from two threads (one group-commit round of
 *              aop's DurabilityScheduler with a message topic and an index topic dirty)
 *
 * Usage: fsync-latency DIR [count=2000] [bytes=4096]
 * Prints per pattern: count, mean, p50, p99, max (microseconds) and syncs/s.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void report(const char *name, double *v, int n, double total_us) {
  qsort(v, n, sizeof *v, cmp);
  double sum = 0;
  for (int i = 0; i < n; i++) sum += v[i];
  printf("%-10s n=%d mean=%.0fus p50=%.0fus p99=%.0fus max=%.0fus  %.0f syncs/s\n", name, n, sum / n, v[n / 2],
         v[(int)(n * 0.99)], v[n - 1], n / (total_us / 1e6));
}

struct job { int fd; };
static void *sync_one(void *arg) {
  fdatasync(((struct job *)arg)->fd);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: fsync-latency DIR [count] [bytes]\n"); return 2; }
  int n = argc > 2 ? atoi(argv[2]) : 2000;
  size_t bytes = argc > 3 ? (size_t)atol(argv[3]) : 4096;
  char path[4096], path2[4096];
  snprintf(path, sizeof path, "%s/fsync-latency.a", argv[1]);
  snprintf(path2, sizeof path2, "%s/fsync-latency.b", argv[1]);
  char *buf = malloc(bytes);
  memset(buf, 0xab, bytes);
  double *v = calloc(n, sizeof *v);

  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  double t0 = now_us();
  for (int i = 0; i < n; i++) {
    double s = now_us();
    if (pwrite(fd, buf, bytes, (off_t)i * bytes) != (ssize_t)bytes) { perror("pwrite"); return 1; }
    fdatasync(fd);
    v[i] = now_us() - s;
  }
  report("append", v, n, now_us() - t0);

  /* the file is now fully written and synced: overwrite in place */
  t0 = now_us();
  for (int i = 0; i < n; i++) {
    double s = now_us();
    if (pwrite(fd, buf, bytes, (off_t)i * bytes) != (ssize_t)bytes) { perror("pwrite"); return 1; }
    fdatasync(fd);
    v[i] = now_us() - s;
  }
  report("overwrite", v, n, now_us() - t0);

  int fd2 = open(path2, O_RDWR | O_CREAT | O_TRUNC, 0644);
  ftruncate(fd, 0);
  fdatasync(fd);
  t0 = now_us();
  for (int i = 0; i < n; i++) {
    double s = now_us();
    pwrite(fd, buf, bytes, (off_t)i * bytes);
    pwrite(fd2, buf, 64, (off_t)i * 64);
    pthread_t a, b;
    struct job ja = {fd}, jb = {fd2};
    pthread_create(&a, NULL, sync_one, &ja);
    pthread_create(&b, NULL, sync_one, &jb);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    v[i] = now_us() - s;
  }
  report("two-files", v, n, now_us() - t0);
  close(fd);
  close(fd2);
  unlink(path);
  unlink(path2);
  return 0;
}
