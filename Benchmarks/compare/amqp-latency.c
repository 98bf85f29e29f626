/*
 * amqp-latency: end-to-end latency at a fixed publish rate (issue #6 scenario (c)), on rabbitmq-c, so
 * RabbitMQ and aop are measured with the same client.
 *
 * One producer connection publishes --rate messages per second of --size bytes to one queue on the default
 * exchange; one consumer connection consumes them. Each body carries the time it was *scheduled* to be
 * sent (CLOCK_MONOTONIC ns), so a stalled producer does not hide latency (no coordinated omission).
 *
 * Modes:
 *   transient  - non-persistent messages, non-durable queue, consumer autoack.
 *   persistent - persistent messages, durable queue, publisher confirms (the producer reads confirms
 *                without blocking between sends; confirm latency = scheduled send → basic.ack), consumer
 *                manual ack of every message (prefetch 256).
 *
 * Prints one JSON object: delivery latency (scheduled send → consumer receive) p50/p95/p99/p99.9/max in
 * microseconds, and for persistent the same for confirms; counts; "error" when something failed.
 *
 * Build: cc -O2 -pthread -o amqp-latency amqp-latency.c -lrabbitmq
 * Usage: amqp-latency --port P [--host H] [--mode transient|persistent] [--rate 1000] [--size 1024]
 *                     [--duration 10] [--warmup 2]
 */
#define _GNU_SOURCE
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *opt_host = "127.0.0.1";
static int opt_port = 5672;
static int opt_persistent = 0;
static int opt_rate = 1000;
static int opt_size = 1024;
static double opt_duration = 10.0;
static double opt_warmup = 2.0;

static char error_text[512];
static atomic_int failed;
static atomic_int stop_consumer;
static char queue_name[64];

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fail(const char *what) {
  if (atomic_exchange(&failed, 1) == 0) snprintf(error_text, sizeof error_text, "%s", what);
}

static int rpc_failed(const char *what, amqp_rpc_reply_t r) {
  if (r.reply_type == AMQP_RESPONSE_NORMAL) return 0;
  char text[256];
  snprintf(text, sizeof text, "%s failed (reply type %d)", what, (int)r.reply_type);
  fail(text);
  return 1;
}

static amqp_connection_state_t open_conn(void) {
  amqp_connection_state_t c = amqp_new_connection();
  amqp_socket_t *s = amqp_tcp_socket_new(c);
  if (!s || amqp_socket_open(s, opt_host, opt_port) != AMQP_STATUS_OK) {
    fail("connect");
    return NULL;
  }
  int one = 1;
  setsockopt(amqp_get_sockfd(c), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (rpc_failed("login", amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"))) return NULL;
  amqp_channel_open(c, 1);
  if (rpc_failed("channel.open", amqp_get_rpc_reply(c))) return NULL;
  return c;
}

/* Latency samples (microseconds), recorded after the warm-up. */
#define MAX_SAMPLES 4000000
static uint32_t *delivery_us, *confirm_us;
static atomic_long delivery_n, confirm_n;
static uint64_t measure_from_ns, measure_until_ns;
/* Scheduled send time per publish sequence number (confirm latency); a ring large enough for the
 * confirms outstanding at any time. */
#define RING (1 << 20)
static uint64_t *scheduled_at;

static void record(uint32_t *samples, atomic_long *n, uint64_t sent, uint64_t now) {
  if (sent < measure_from_ns || sent >= measure_until_ns) return;
  long i = atomic_fetch_add(n, 1);
  if (i < MAX_SAMPLES) samples[i] = (uint32_t)((now - sent) / 1000);
}

static void *consumer(void *arg) {
  amqp_connection_state_t c = arg;
  amqp_basic_qos(c, 1, 0, 256, 0);
  if (rpc_failed("basic.qos", amqp_get_rpc_reply(c))) return NULL;
  amqp_basic_consume(c, 1, amqp_cstring_bytes(queue_name), amqp_empty_bytes, 0, !opt_persistent, 0, amqp_empty_table);
  if (rpc_failed("basic.consume", amqp_get_rpc_reply(c))) return NULL;
  while (!atomic_load(&stop_consumer)) {
    amqp_envelope_t env;
    struct timeval tv = {0, 100000};
    amqp_maybe_release_buffers(c);
    amqp_rpc_reply_t r = amqp_consume_message(c, &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) continue;
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
      fail("consume");
      return NULL;
    }
    uint64_t now = now_ns();
    uint64_t sent = 0;
    if (env.message.body.len >= 8) memcpy(&sent, env.message.body.bytes, 8);
    record(delivery_us, &delivery_n, sent, now);
    if (opt_persistent) amqp_basic_ack(c, 1, env.delivery_tag, 0);
    amqp_destroy_envelope(&env);
  }
  return NULL;
}

/* Reads every confirm already received, without blocking. */
static void read_confirms(amqp_connection_state_t c, uint64_t *confirmed_upto, uint64_t published) {
  for (;;) {
    amqp_frame_t frame;
    struct timeval zero = {0, 0};
    int rc = amqp_simple_wait_frame_noblock(c, &frame, &zero);
    if (rc == AMQP_STATUS_TIMEOUT) return;
    if (rc != AMQP_STATUS_OK) {
      fail("reading confirms");
      return;
    }
    if (frame.frame_type != AMQP_FRAME_METHOD || frame.payload.method.id != AMQP_BASIC_ACK_METHOD) continue;
    amqp_basic_ack_t *ack = frame.payload.method.decoded;
    uint64_t now = now_ns();
    uint64_t from = ack->multiple ? *confirmed_upto + 1 : ack->delivery_tag;
    for (uint64_t seq = from; seq <= ack->delivery_tag && seq <= published; seq++) {
      record(confirm_us, &confirm_n, scheduled_at[seq % RING], now);
    }
    if (ack->delivery_tag > *confirmed_upto) *confirmed_upto = ack->delivery_tag;
  }
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void print_stats(const char *name, uint32_t *v, long n) {
  if (n > MAX_SAMPLES) n = MAX_SAMPLES;
  if (n == 0) {
    printf("\"%s\":null", name);
    return;
  }
  qsort(v, (size_t)n, sizeof *v, cmp_u32);
  printf("\"%s\":{\"n\":%ld,\"p50_us\":%u,\"p95_us\":%u,\"p99_us\":%u,\"p999_us\":%u,\"max_us\":%u}", name, n,
         v[n / 2], v[(long)(n * 0.95)], v[(long)(n * 0.99)], v[(long)(n * 0.999)], v[n - 1]);
}

int main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *a = argv[i], *v = argv[i + 1];
    if (!strcmp(a, "--host")) opt_host = v;
    else if (!strcmp(a, "--port")) opt_port = atoi(v);
    else if (!strcmp(a, "--mode")) opt_persistent = !strcmp(v, "persistent");
    else if (!strcmp(a, "--rate")) opt_rate = atoi(v);
    else if (!strcmp(a, "--size")) opt_size = atoi(v);
    else if (!strcmp(a, "--duration")) opt_duration = atof(v);
    else if (!strcmp(a, "--warmup")) opt_warmup = atof(v);
    else {
      fprintf(stderr, "unknown option %s\n", a);
      return 2;
    }
  }
  if (opt_size < 8) opt_size = 8;
  delivery_us = calloc(MAX_SAMPLES, sizeof *delivery_us);
  confirm_us = calloc(MAX_SAMPLES, sizeof *confirm_us);
  scheduled_at = calloc(RING, sizeof *scheduled_at);
  snprintf(queue_name, sizeof queue_name, "amqp-latency-%d", (int)getpid());

  amqp_connection_state_t p = open_conn(), cc = p ? open_conn() : NULL;
  pthread_t consumer_thread;
  int consumer_started = 0;
  uint64_t published = 0, confirmed_upto = 0;
  if (cc) {
    amqp_queue_declare(p, 1, amqp_cstring_bytes(queue_name), 0, opt_persistent, 0, 0, amqp_empty_table);
    if (!rpc_failed("queue.declare", amqp_get_rpc_reply(p)) && opt_persistent) {
      amqp_confirm_select(p, 1);
      rpc_failed("confirm.select", amqp_get_rpc_reply(p));
    }
  }
  if (cc && !atomic_load(&failed)) {
    consumer_started = pthread_create(&consumer_thread, NULL, consumer, cc) == 0;
    char *body = calloc(1, (size_t)opt_size);
    amqp_basic_properties_t props = {._flags = AMQP_BASIC_DELIVERY_MODE_FLAG,
                                      .delivery_mode = opt_persistent ? 2 : 1};
    uint64_t interval = 1000000000ull / (uint64_t)opt_rate;
    uint64_t start = now_ns() + 200000000ull; /* let the consumer subscribe */
    measure_from_ns = start + (uint64_t)(opt_warmup * 1e9);
    measure_until_ns = measure_from_ns + (uint64_t)(opt_duration * 1e9);
    for (uint64_t i = 0; !atomic_load(&failed); i++) {
      uint64_t at = start + i * interval;
      if (at >= measure_until_ns) break;
      uint64_t now;
      while ((now = now_ns()) < at) {
        if (opt_persistent) read_confirms(p, &confirmed_upto, published);
        uint64_t left = at - now_ns();
        if (left > 200000) {
          struct timespec ts = {0, (long)(left - 100000)};
          nanosleep(&ts, NULL);
        }
      }
      memcpy(body, &at, 8);
      published++;
      scheduled_at[published % RING] = at;
      if (amqp_basic_publish(p, 1, amqp_empty_bytes, amqp_cstring_bytes(queue_name), 0, 0, &props,
                             (amqp_bytes_t){(size_t)opt_size, body}) != AMQP_STATUS_OK) {
        fail("publish");
      }
      if (opt_persistent) read_confirms(p, &confirmed_upto, published);
    }
    /* Wait up to 5 s for the last confirms and deliveries. */
    uint64_t deadline = now_ns() + 5000000000ull;
    while (opt_persistent && confirmed_upto < published && now_ns() < deadline && !atomic_load(&failed)) {
      read_confirms(p, &confirmed_upto, published);
      struct timespec ts = {0, 200000};
      nanosleep(&ts, NULL);
    }
    struct timespec ts = {0, 500000000};
    nanosleep(&ts, NULL);
  }
  atomic_store(&stop_consumer, 1);
  if (consumer_started) pthread_join(consumer_thread, NULL);
  if (p && !atomic_load(&failed)) {
    amqp_queue_delete(p, 1, amqp_cstring_bytes(queue_name), 0, 0);
    amqp_get_rpc_reply(p);
  }
  printf("{\"mode\":\"%s\",\"rate\":%d,\"size\":%d,\"published\":%llu,", opt_persistent ? "persistent" : "transient",
         opt_rate, opt_size, (unsigned long long)published);
  print_stats("delivery", delivery_us, atomic_load(&delivery_n));
  printf(",");
  print_stats("confirm", confirm_us, atomic_load(&confirm_n));
  if (atomic_load(&failed)) printf(",\"error\":\"%s\"}\n", error_text);
  else printf(",\"error\":null}\n");
  return atomic_load(&failed) ? 1 : 0;
}
