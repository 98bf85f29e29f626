/*
 * fsync-pipeline: batches per second when a writer appends batches to a message file (and 1/8 of the bytes
 * to an index file) and syncs them, with D batches in flight at once, on an empty file vs on blocks zeroed
 * and synced beforehand. This is the choice behind aop's storage pipelining (maximumUnsyncedBatches = 2,
 * concurrent commit rounds) and segment preallocation (preallocationBytes); see Docs/Storage.md.
 *
 *   pre = 0: append (each fdatasync journals a size/extent change)
 *   pre = 1: overwrite blocks written with zeros and synced first (what preallocation gives)
 *   pre = 2: overwrite blocks reserved with fallocate (unwritten extents: converted, and journalled, on write)
 *
 * Usage: fsync-pipeline DIR COUNT BYTES DEPTH PRE      e.g.  fsync-pipeline /tmp 500 92160 2 1
 * Prints count, mean/p50/p99 latency of write + sync per batch (microseconds) and batches/s.
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

static int fd, fd2, count;
static size_t bytes;
static int next_batch = 0;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static double *latency;
static char *buffer;

static void *worker(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&lock);
    int i = next_batch++;
    pthread_mutex_unlock(&lock);
    if (i >= count) return NULL;
    double t = now_us();
    if (pwrite(fd, buffer, bytes, (off_t)i * bytes) < 0) perror("pwrite");
    if (pwrite(fd2, buffer, bytes / 8, (off_t)i * (bytes / 8)) < 0) perror("pwrite");
    fdatasync(fd);
    fdatasync(fd2);
    latency[i] = now_us() - t;
  }
}

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: fsync-pipeline DIR COUNT BYTES DEPTH PRE\n"); return 2; }
  count = atoi(argv[2]);
  bytes = (size_t)atol(argv[3]);
  int depth = atoi(argv[4]), pre = atoi(argv[5]);
  if (depth < 1 || depth > 16) { fprintf(stderr, "DEPTH must be 1...16\n"); return 2; }
  char path[4096];
  snprintf(path, sizeof path, "%s/fsync-pipeline.a", argv[1]);
  fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  snprintf(path, sizeof path, "%s/fsync-pipeline.b", argv[1]);
  fd2 = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || fd2 < 0) { perror("open"); return 1; }
  buffer = malloc(bytes);
  memset(buffer, 0xab, bytes);
  latency = calloc(count, sizeof *latency);
  if (pre == 1) {
    char *zeros = calloc(1, (size_t)count * bytes);
    if (pwrite(fd, zeros, (size_t)count * bytes, 0) < 0 || pwrite(fd2, zeros, (size_t)count * bytes / 8, 0) < 0)
      perror("pwrite zeros");
    free(zeros);
  } else if (pre == 2) {
    fallocate(fd, 0, 0, (off_t)count * bytes);
    fallocate(fd2, 0, 0, (off_t)count * bytes / 8);
  }
  fsync(fd);
  fsync(fd2);
  pthread_t threads[16];
  double t0 = now_us();
  for (int i = 0; i < depth; i++) pthread_create(&threads[i], NULL, worker, NULL);
  for (int i = 0; i < depth; i++) pthread_join(threads[i], NULL);
  double total = now_us() - t0;
  qsort(latency, count, sizeof *latency, cmp);
  double sum = 0;
  for (int i = 0; i < count; i++) sum += latency[i];
  printf("depth=%d pre=%d n=%d mean=%.0fus p50=%.0fus p99=%.0fus  %.0f batches/s\n", depth, pre, count, sum / count,
         latency[count / 2], latency[(int)(count * 0.99)], count / (total / 1e6));
  unlink(path);
  snprintf(path, sizeof path, "%s/fsync-pipeline.a", argv[1]);
  unlink(path);
  return 0;
}
