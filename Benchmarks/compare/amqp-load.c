/*
 * amqp-load: a small AMQP 0-9-1 load client on rabbitmq-c, used to compare brokers with the same client.
 *
 * One producer thread and one consumer thread, each on its own connection, one queue on the default
 * exchange. The main thread owns the clock: warm-up, measurement window, then drain, then it prints one
 * JSON object on stdout (even when a thread failed or hangs, so a broker failure is reported, not hidden).
 *
 * Modes:
 *   transient  - 16-byte non-persistent messages, non-durable queue, consumer autoack (no_ack=1).
 *   persistent - 1 KiB persistent messages (delivery_mode 2), durable queue, publisher confirms with at
 *                most --window (256) unconfirmed publishes (basic.ack with multiple honoured), consumer
 *                manual ack with prefetch --prefetch (256), acking with multiple=1 every --ack-every (64).
 *
 * In both modes the producer pauses while published - consumed > --cap (100000), so neither broker is
 * measured on unbounded queue growth.
 *
 * Topologies (each producer and each consumer is a thread with its own connection):
 *   default      - 1 producer -> 1 queue (default exchange) -> 1 consumer.
 *   --fanout N   - 1 producer -> a fanout exchange bound to N queues -> N consumers (one per queue);
 *                  consumed counts every delivery (N per publish), lost = N * published - consumed.
 *   --pairs N    - N producers, each publishing to its own queue (default exchange), N consumers.
 *
 * Each body starts with an 8-byte sequence number; the consumer counts deliveries whose sequence number is
 * not larger than the previous one ("out_of_order": duplicates or reordering).
 *
 * Build: cc -O2 -pthread -o amqp-load amqp-load.c -lrabbitmq
 * Usage: amqp-load --port P [--host H] [--mode transient|persistent] [--duration S] [--warmup S]
 *                  [--drain-timeout S] [--cap N] [--window N] [--prefetch N] [--ack-every N] [--size BYTES]
 *                  [--consumer 0|1]   (0: publish only, for diagnostics)
 *                  [--refill N]       (persistent: once the window is full, publish again only when N
 *                                      slots are free, i.e. in bursts of N; default 1)
 *                  [--fanout N | --pairs N]
 */
#define _GNU_SOURCE
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* ---------------------------------------------------------------------------------------------- options */
static const char *opt_host = "127.0.0.1";
static int opt_port = 5672;
static int opt_persistent = 0;
static double opt_duration = 10.0;
static double opt_warmup = 2.0;
static double opt_drain_timeout = 15.0;
static uint64_t opt_cap = 100000;
static int opt_window = 256;
static int opt_prefetch = 256;
static int opt_ack_every = 64;
static int opt_size = -1; /* default: 16 transient, 1024 persistent */
static int opt_refill = 1; /* persistent: when the window is full, wait until this many slots are free */
static int opt_consumer = 1; /* --consumer 0: publish only (diagnostics; no in-flight cap, lost not meaningful) */
static int opt_fanout = 0;   /* --fanout N: one producer to a fanout exchange bound to N queues */
static int opt_pairs = 1;    /* --pairs N: N producer/consumer pairs, one queue each */

/* ---------------------------------------------------------------------------------------------- shared state */
#define MAX_QUEUES 1024
static int n_queues = 1;     /* queues (= consumers) */
static int n_producers = 1;
static char exchange_name[128]; /* empty: default exchange */
static char queue_names[MAX_QUEUES][128];
static atomic_uint_fast64_t published_by[MAX_QUEUES]; /* per producer */
static atomic_uint_fast64_t consumed_by[MAX_QUEUES];  /* per queue */
static atomic_uint_fast64_t published;   /* basic.publish calls that returned OK */
static atomic_uint_fast64_t confirmed;   /* persistent mode: publishes acked by the broker */
static atomic_uint_fast64_t nacked;      /* persistent mode: publishes nacked by the broker */
static atomic_uint_fast64_t consumed;    /* deliveries received */
static atomic_uint_fast64_t out_of_order;
static atomic_uint_fast64_t blocked_events; /* connection.blocked received by the producer */
static atomic_int stop_publish;
static atomic_int stop_consume;
static atomic_int producer_done;
static atomic_int consumer_done;
static atomic_int consumer_ready;

static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[512];

static void set_error(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(const char *who, const char *fmt, ...) {
  pthread_mutex_lock(&error_lock);
  if (first_error[0] == 0) {
    int n = snprintf(first_error, sizeof first_error, "%s: ", who);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(first_error + n, sizeof first_error - (size_t)n, fmt, ap);
    va_end(ap);
  }
  pthread_mutex_unlock(&error_lock);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

/* Describes an RPC reply that is not NORMAL; returns 1 if it was an error. */
static int reply_error(const char *who, const char *what, amqp_rpc_reply_t r) {
  switch (r.reply_type) {
  case AMQP_RESPONSE_NORMAL:
    return 0;
  case AMQP_RESPONSE_NONE:
    set_error(who, "%s: missing RPC reply", what);
    return 1;
  case AMQP_RESPONSE_LIBRARY_EXCEPTION:
    set_error(who, "%s: %s", what, amqp_error_string2(r.library_error));
    return 1;
  case AMQP_RESPONSE_SERVER_EXCEPTION:
    if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
      amqp_connection_close_t *m = r.reply.decoded;
      set_error(who, "%s: connection.close %u %.*s", what, m->reply_code, (int)m->reply_text.len,
                (char *)m->reply_text.bytes);
    } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      amqp_channel_close_t *m = r.reply.decoded;
      set_error(who, "%s: channel.close %u %.*s", what, m->reply_code, (int)m->reply_text.len,
                (char *)m->reply_text.bytes);
    } else {
      set_error(who, "%s: unexpected server method 0x%08X", what, r.reply.id);
    }
    return 1;
  }
  return 1;
}

/* Opens a connection with channel 1 open; NULL on failure (error recorded). */
static amqp_connection_state_t open_conn(const char *who) {
  amqp_connection_state_t c = amqp_new_connection();
  amqp_socket_t *s = amqp_tcp_socket_new(c);
  if (!s) {
    set_error(who, "cannot create socket");
    amqp_destroy_connection(c);
    return NULL;
  }
  struct timeval tv = {10, 0};
  int rc = amqp_socket_open_noblock(s, opt_host, opt_port, &tv);
  if (rc != AMQP_STATUS_OK) {
    set_error(who, "connect %s:%d: %s", opt_host, opt_port, amqp_error_string2(rc));
    amqp_destroy_connection(c);
    return NULL;
  }
  /* Explicitly disable Nagle (harmless if the library already did): small frames must not wait. */
  if (getenv("AMQP_LOAD_NAGLE") == NULL) {
    int one = 1;
    setsockopt(amqp_get_sockfd(c), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (reply_error(who, "login", amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"))) {
    amqp_destroy_connection(c);
    return NULL;
  }
  amqp_channel_open(c, 1);
  if (reply_error(who, "channel.open", amqp_get_rpc_reply(c))) {
    amqp_destroy_connection(c);
    return NULL;
  }
  return c;
}

static void close_conn(amqp_connection_state_t c) {
  if (!c) return;
  amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(c, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(c);
}

/* ---------------------------------------------------------------------------------------------- producer */
#define RING 4096 /* > any sane --window; confirm tracking ring */
/* One producer thread's state (the confirm tracking ring is private to its thread). */
struct producer {
  int index;
  uint8_t acked_flags[RING];
  uint64_t lowest_unconfirmed;
  atomic_uint_fast64_t confirmed; /* this producer's publishes acked or nacked */
};
static struct producer *producers;

static void mark_confirmed(struct producer *pr, uint64_t tag, int is_nack) {
  uint8_t *f = &pr->acked_flags[tag % RING];
  if (*f) return;
  *f = 1;
  if (is_nack) atomic_fetch_add_explicit(&nacked, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&pr->confirmed, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&confirmed, 1, memory_order_relaxed);
}

static void settle(struct producer *pr, uint64_t tag, int multiple, int is_nack) {
  if (multiple) {
    for (uint64_t t = pr->lowest_unconfirmed; t <= tag; t++) mark_confirmed(pr, t, is_nack);
  } else if (tag >= pr->lowest_unconfirmed) {
    mark_confirmed(pr, tag, is_nack);
  }
  while (pr->acked_flags[pr->lowest_unconfirmed % RING]) {
    pr->acked_flags[pr->lowest_unconfirmed % RING] = 0;
    pr->lowest_unconfirmed++;
  }
}

/* How far this producer is ahead of its consumers: its publishes not yet consumed (fanout: by the
 * slowest queue). */
static uint64_t producer_lag(const struct producer *pr, uint64_t p) {
  if (opt_fanout) {
    uint64_t slowest = UINT64_MAX;
    for (int q = 0; q < n_queues; q++) {
      uint64_t c = atomic_load_explicit(&consumed_by[q], memory_order_relaxed);
      if (c < slowest) slowest = c;
    }
    return p > slowest ? p - slowest : 0;
  }
  uint64_t c = atomic_load_explicit(&consumed_by[pr->index], memory_order_relaxed);
  return p > c ? p - c : 0;
}

/* Handles one frame that arrived on the producer connection; returns 0 on success, -1 on a fatal error. */
static int producer_handle_frame(struct producer *pr, const amqp_frame_t *fr) {
  if (fr->frame_type != AMQP_FRAME_METHOD) return 0;
  switch (fr->payload.method.id) {
  case AMQP_BASIC_ACK_METHOD: {
    amqp_basic_ack_t *a = fr->payload.method.decoded;
    settle(pr, a->delivery_tag, a->multiple, 0);
    return 0;
  }
  case AMQP_BASIC_NACK_METHOD: {
    amqp_basic_nack_t *n = fr->payload.method.decoded;
    settle(pr, n->delivery_tag, n->multiple, 1);
    return 0;
  }
  case AMQP_CONNECTION_BLOCKED_METHOD:
    atomic_fetch_add_explicit(&blocked_events, 1, memory_order_relaxed);
    return 0;
  case AMQP_CONNECTION_UNBLOCKED_METHOD:
    return 0;
  case AMQP_CHANNEL_CLOSE_METHOD: {
    amqp_channel_close_t *m = fr->payload.method.decoded;
    set_error("producer", "broker closed channel: %u %.*s", m->reply_code, (int)m->reply_text.len,
              (char *)m->reply_text.bytes);
    return -1;
  }
  case AMQP_CONNECTION_CLOSE_METHOD: {
    amqp_connection_close_t *m = fr->payload.method.decoded;
    set_error("producer", "broker closed connection: %u %.*s", m->reply_code, (int)m->reply_text.len,
              (char *)m->reply_text.bytes);
    return -1;
  }
  default:
    return 0;
  }
}

/* Reads confirms: blocks (up to 1 s per attempt, until stop) while the window is full, else only drains
 * what is already readable. Returns -1 on a fatal error. */
static int producer_read_confirms(struct producer *pr, amqp_connection_state_t c, int block) {
  for (;;) {
    uint64_t outstanding = atomic_load(&published_by[pr->index]) - atomic_load(&pr->confirmed);
    int must_wait = block && outstanding + (uint64_t)opt_refill > (uint64_t)opt_window;
    struct timeval zero = {0, 0}, one = {1, 0};
    amqp_frame_t fr;
    int rc = amqp_simple_wait_frame_noblock(c, &fr, must_wait ? &one : &zero);
    if (rc == AMQP_STATUS_TIMEOUT) {
      if (!must_wait) return 0;
      if (atomic_load(&stop_publish) && atomic_load(&stop_consume)) return 0;
      continue;
    }
    if (rc != AMQP_STATUS_OK) {
      set_error("producer", "reading confirms: %s", amqp_error_string2(rc));
      return -1;
    }
    if (producer_handle_frame(pr, &fr) < 0) return -1;
    if (!amqp_frames_enqueued(c) && !amqp_data_in_buffer(c)) amqp_maybe_release_buffers(c);
  }
}

static void *producer_main(void *arg) {
  struct producer *pr = arg;
  pr->lowest_unconfirmed = 1;
  amqp_connection_state_t c = open_conn("producer");
  if (!c) goto out;
  if (opt_persistent) {
    amqp_confirm_select(c, 1);
    if (reply_error("producer", "confirm.select", amqp_get_rpc_reply(c))) goto out_close;
  }
  char *body = calloc(1, (size_t)opt_size);
  amqp_basic_properties_t props;
  memset(&props, 0, sizeof props);
  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.delivery_mode = opt_persistent ? 2 : 1;
  amqp_bytes_t exchange = amqp_cstring_bytes(exchange_name);
  amqp_bytes_t rk = amqp_cstring_bytes(opt_fanout ? "" : queue_names[pr->index]);
  uint64_t seq = 0;
  while (!atomic_load_explicit(&stop_publish, memory_order_relaxed)) {
    uint64_t p = atomic_load_explicit(&published_by[pr->index], memory_order_relaxed);
    if (opt_consumer && producer_lag(pr, p) > opt_cap) {
      if (opt_persistent && producer_read_confirms(pr, c, 0) < 0) goto out_free;
      sleep_s(0.0002);
      continue;
    }
    if (opt_persistent && p - atomic_load_explicit(&pr->confirmed, memory_order_relaxed) >= (uint64_t)opt_window) {
      if (producer_read_confirms(pr, c, 1) < 0) goto out_free;
      continue;
    }
    seq++;
    memcpy(body, &seq, sizeof seq < (size_t)opt_size ? sizeof seq : (size_t)opt_size);
    int rc = amqp_basic_publish(c, 1, exchange, rk, 0, 0, &props, (amqp_bytes_t){(size_t)opt_size, body});
    if (rc != AMQP_STATUS_OK) {
      set_error("producer", "basic.publish: %s", amqp_error_string2(rc));
      goto out_free;
    }
    atomic_fetch_add_explicit(&published_by[pr->index], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&published, 1, memory_order_relaxed);
    if (opt_persistent && (seq & 15) == 0 && producer_read_confirms(pr, c, 0) < 0) goto out_free;
  }
  /* Wait for the remaining confirms (bounded by the main thread's drain timeout via stop_consume). */
  if (opt_persistent) {
    while (atomic_load(&pr->confirmed) < atomic_load(&published_by[pr->index]) && !atomic_load(&stop_consume)) {
      struct timeval tv = {0, 200000};
      amqp_frame_t fr;
      int rc = amqp_simple_wait_frame_noblock(c, &fr, &tv);
      if (rc == AMQP_STATUS_TIMEOUT) continue;
      if (rc != AMQP_STATUS_OK) {
        set_error("producer", "reading final confirms: %s", amqp_error_string2(rc));
        goto out_free;
      }
      if (producer_handle_frame(pr, &fr) < 0) goto out_free;
    }
  }
out_free:
  free(body);
out_close:
  close_conn(c);
out:
  atomic_fetch_add(&producer_done, 1);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------- consumer */
static void *consumer_main(void *arg) {
  int q = (int)(intptr_t)arg;
  amqp_connection_state_t c = open_conn("consumer");
  if (!c) goto out;
  if (opt_persistent) {
    amqp_basic_qos(c, 1, 0, (uint16_t)opt_prefetch, 0);
    if (reply_error("consumer", "basic.qos", amqp_get_rpc_reply(c))) goto out_close;
  }
  amqp_basic_consume(c, 1, amqp_cstring_bytes(queue_names[q]), amqp_empty_bytes, 0, opt_persistent ? 0 : 1, 0,
                     amqp_empty_table);
  if (reply_error("consumer", "basic.consume", amqp_get_rpc_reply(c))) goto out_close;
  atomic_fetch_add(&consumer_ready, 1);
  uint64_t last_seq = 0, unacked = 0, last_tag = 0;
  while (!atomic_load_explicit(&stop_consume, memory_order_relaxed)) {
    amqp_envelope_t env;
    struct timeval tv = {0, 100000};
    amqp_maybe_release_buffers(c);
    amqp_rpc_reply_t r = amqp_consume_message(c, &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
      uint64_t seq = 0;
      size_t n = env.message.body.len < sizeof seq ? env.message.body.len : sizeof seq;
      memcpy(&seq, env.message.body.bytes, n);
      if (seq <= last_seq) atomic_fetch_add_explicit(&out_of_order, 1, memory_order_relaxed);
      last_seq = seq;
      last_tag = env.delivery_tag;
      amqp_destroy_envelope(&env);
      atomic_fetch_add_explicit(&consumed_by[q], 1, memory_order_relaxed);
      atomic_fetch_add_explicit(&consumed, 1, memory_order_relaxed);
      if (opt_persistent && ++unacked >= (uint64_t)opt_ack_every) {
        int rc = amqp_basic_ack(c, 1, last_tag, 1);
        if (rc != AMQP_STATUS_OK) {
          set_error("consumer", "basic.ack: %s", amqp_error_string2(rc));
          goto out_close;
        }
        unacked = 0;
      }
      continue;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) {
      if (opt_persistent && unacked > 0) { /* idle: settle what we hold */
        amqp_basic_ack(c, 1, last_tag, 1);
        unacked = 0;
      }
      continue;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
      amqp_frame_t fr;
      int rc = amqp_simple_wait_frame(c, &fr);
      if (rc != AMQP_STATUS_OK) {
        set_error("consumer", "reading frame: %s", amqp_error_string2(rc));
        goto out_close;
      }
      if (fr.frame_type == AMQP_FRAME_METHOD) {
        if (fr.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
            fr.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
          amqp_channel_close_t *m = fr.payload.method.decoded; /* both start with code + text */
          set_error("consumer", "broker closed %s: %u %.*s",
                    fr.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ? "channel" : "connection", m->reply_code,
                    (int)m->reply_text.len, (char *)m->reply_text.bytes);
          goto out_close;
        }
        if (fr.payload.method.id == AMQP_BASIC_CANCEL_METHOD) {
          set_error("consumer", "broker cancelled the consumer");
          goto out_close;
        }
      }
      continue;
    }
    reply_error("consumer", "consume", r);
    goto out_close;
  }
  if (opt_persistent && unacked > 0) amqp_basic_ack(c, 1, last_tag, 1);
out_close:
  close_conn(c);
out:
  atomic_fetch_add(&consumer_done, 1);
  if (!c) atomic_fetch_add(&consumer_ready, 1); /* failed before consuming: don't make main wait */
  return NULL;
}

/* ---------------------------------------------------------------------------------------------- main */
static void usage(void) {
  fprintf(stderr, "usage: amqp-load --port P [--host H] [--mode transient|persistent] [--duration S] "
                  "[--warmup S] [--drain-timeout S] [--cap N] [--window N] [--prefetch N] [--ack-every N] "
                  "[--size BYTES] [--consumer 0|1] [--refill N] [--fanout N | --pairs N]\n");
  exit(2);
}

static void json_escape(const char *s, char *out, size_t cap) {
  size_t j = 0;
  for (; *s && j + 7 < cap; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') {
      out[j++] = '\\';
      out[j++] = (char)ch;
    } else if (ch < 0x20) {
      j += (size_t)snprintf(out + j, cap - j, "\\u%04x", ch);
    } else {
      out[j++] = (char)ch;
    }
  }
  out[j] = 0;
}

int main(int argc, char **argv) {
  const char *mode = "transient";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (!strcmp(a, "--host")) opt_host = v;
    else if (!strcmp(a, "--port")) opt_port = atoi(v);
    else if (!strcmp(a, "--mode")) mode = v;
    else if (!strcmp(a, "--duration")) opt_duration = atof(v);
    else if (!strcmp(a, "--warmup")) opt_warmup = atof(v);
    else if (!strcmp(a, "--drain-timeout")) opt_drain_timeout = atof(v);
    else if (!strcmp(a, "--cap")) opt_cap = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--window")) opt_window = atoi(v);
    else if (!strcmp(a, "--prefetch")) opt_prefetch = atoi(v);
    else if (!strcmp(a, "--ack-every")) opt_ack_every = atoi(v);
    else if (!strcmp(a, "--size")) opt_size = atoi(v);
    else if (!strcmp(a, "--consumer")) opt_consumer = atoi(v) != 0;
    else if (!strcmp(a, "--refill")) opt_refill = atoi(v);
    else if (!strcmp(a, "--fanout")) opt_fanout = atoi(v);
    else if (!strcmp(a, "--pairs")) opt_pairs = atoi(v);
    else usage();
  }
  if (!strcmp(mode, "persistent")) opt_persistent = 1;
  else if (strcmp(mode, "transient")) usage();
  if (opt_size < 0) opt_size = opt_persistent ? 1024 : 16;
  if (opt_window < 1 || opt_window >= RING) opt_window = 256;
  if (opt_refill < 1 || opt_refill > opt_window) opt_refill = 1;
  if (opt_fanout < 0 || opt_fanout > MAX_QUEUES || opt_pairs < 1 || opt_pairs > MAX_QUEUES) usage();
  if (opt_fanout > 0) {
    n_queues = opt_fanout;
    n_producers = 1;
  } else {
    n_queues = opt_pairs;
    n_producers = opt_pairs;
  }
  /* Publishes each queue receives per publish (fanout: every queue gets every message). */
  uint64_t copies = opt_fanout ? (uint64_t)n_queues : 1;
  long tag = (long)time(NULL);
  for (int q = 0; q < n_queues; q++)
    snprintf(queue_names[q], sizeof queue_names[q], "amqp-load-%s-%ld-%d-%d", mode, tag, (int)getpid(), q);
  if (opt_fanout) snprintf(exchange_name, sizeof exchange_name, "amqp-load-fanout-%ld-%d", tag, (int)getpid());
  producers = calloc((size_t)n_producers, sizeof *producers);
  for (int i = 0; i < n_producers; i++) producers[i].index = i;

  /* Set-up connection: declare the queues (and exchange) and delete them at the end. */
  double t_start = now_s();
  amqp_connection_state_t setup = open_conn("setup");
  if (setup && opt_fanout) {
    amqp_exchange_declare(setup, 1, amqp_cstring_bytes(exchange_name), amqp_cstring_bytes("fanout"), 0,
                          opt_persistent, 0, 0, amqp_empty_table);
    if (reply_error("setup", "exchange.declare", amqp_get_rpc_reply(setup))) {
      close_conn(setup);
      setup = NULL;
    }
  }
  for (int q = 0; setup && q < n_queues; q++) {
    amqp_queue_declare(setup, 1, amqp_cstring_bytes(queue_names[q]), 0, opt_persistent, 0, 0, amqp_empty_table);
    if (reply_error("setup", "queue.declare", amqp_get_rpc_reply(setup))) {
      close_conn(setup);
      setup = NULL;
      break;
    }
    if (opt_fanout) {
      amqp_queue_bind(setup, 1, amqp_cstring_bytes(queue_names[q]), amqp_cstring_bytes(exchange_name),
                      amqp_empty_bytes, amqp_empty_table);
      if (reply_error("setup", "queue.bind", amqp_get_rpc_reply(setup))) {
        close_conn(setup);
        setup = NULL;
      }
    }
  }
  pthread_t *prod = calloc((size_t)n_producers, sizeof *prod), *cons = calloc((size_t)n_queues, sizeof *cons);
  int started = 0;
  double rate_pub = 0, rate_cons = 0, rate_conf = 0, window = 0, drain_s = 0;
  if (setup) {
    if (opt_consumer) {
      for (int q = 0; q < n_queues; q++) pthread_create(&cons[q], NULL, consumer_main, (void *)(intptr_t)q);
    } else {
      atomic_store(&consumer_ready, n_queues);
      atomic_store(&consumer_done, n_queues);
    }
    while (atomic_load(&consumer_ready) < n_queues && now_s() - t_start < 15) sleep_s(0.01);
    for (int i = 0; i < n_producers; i++) pthread_create(&prod[i], NULL, producer_main, &producers[i]);
    started = 1;
    sleep_s(opt_warmup);
    uint64_t p0 = atomic_load(&published), c0 = atomic_load(&consumed), f0 = atomic_load(&confirmed);
    double t0 = now_s();
    sleep_s(opt_duration);
    uint64_t p1 = atomic_load(&published), c1 = atomic_load(&consumed), f1 = atomic_load(&confirmed);
    double t1 = now_s();
    window = t1 - t0;
    rate_pub = (double)(p1 - p0) / window;
    rate_cons = (double)(c1 - c0) / window;
    rate_conf = (double)(f1 - f0) / window;
    atomic_store(&stop_publish, 1);
    /* Drain: wait until everything published was consumed, giving up after drain_timeout without progress. */
    double td = now_s(), last_progress = td;
    uint64_t last_c = atomic_load(&consumed);
    while (1) {
      uint64_t c = atomic_load(&consumed);
      int all = (c >= atomic_load(&published) * copies || !opt_consumer) &&
                (!opt_persistent || atomic_load(&confirmed) >= atomic_load(&published));
      if (all && atomic_load(&producer_done) == n_producers) break;
      if (atomic_load(&consumer_done) == n_queues && atomic_load(&producer_done) == n_producers) break;
      if (c != last_c) {
        last_c = c;
        last_progress = now_s();
      }
      if (now_s() - last_progress > opt_drain_timeout) {
        set_error("drain", "no progress for %.0f s (published %llu, consumed %llu, confirmed %llu)",
                  opt_drain_timeout, (unsigned long long)atomic_load(&published),
                  (unsigned long long)c, (unsigned long long)atomic_load(&confirmed));
        break;
      }
      sleep_s(0.01);
    }
    drain_s = now_s() - td;
    atomic_store(&stop_consume, 1);
  }
  /* Join the threads, but never hang on a stuck socket: give them 5 s. */
  int hung = 0;
  if (started) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    for (int i = 0; i < n_producers; i++) {
      if (pthread_timedjoin_np(prod[i], NULL, &dl) != 0) {
        hung = 1;
        set_error("producer", "thread did not finish within 5 s after stop (blocked in socket I/O?)");
      }
    }
    for (int q = 0; opt_consumer && q < n_queues; q++) {
      if (pthread_timedjoin_np(cons[q], NULL, &dl) != 0) {
        hung = 1;
        set_error("consumer", "thread did not finish within 5 s after stop (blocked in socket I/O?)");
      }
    }
  }
  if (setup && !hung) {
    for (int q = 0; q < n_queues; q++) {
      amqp_queue_delete(setup, 1, amqp_cstring_bytes(queue_names[q]), 0, 0);
      if (reply_error("setup", "queue.delete", amqp_get_rpc_reply(setup))) break;
    }
    if (opt_fanout) {
      amqp_exchange_delete(setup, 1, amqp_cstring_bytes(exchange_name), 0);
      reply_error("setup", "exchange.delete", amqp_get_rpc_reply(setup));
    }
  }
  if (setup) close_conn(setup);

  uint64_t p = atomic_load(&published), c = atomic_load(&consumed);
  char err[1100];
  json_escape(first_error, err, sizeof err);
  printf("{\"mode\":\"%s\",\"size\":%d,\"queues\":%d,\"producers\":%d,\"fanout\":%d,\"duration_s\":%.3f,\"published_per_s\":%.1f,\"consumed_per_s\":%.1f,"
         "\"confirmed_per_s\":%.1f,\"published\":%llu,\"consumed\":%llu,\"confirmed\":%llu,\"nacked\":%llu,"
         "\"lost\":%lld,\"out_of_order\":%llu,\"blocked_events\":%llu,\"drain_s\":%.3f,\"error\":%s%s%s}\n",
         mode, opt_size, n_queues, n_producers, opt_fanout > 0, window, rate_pub, rate_cons, opt_persistent ? rate_conf : 0.0, (unsigned long long)p,
         (unsigned long long)c, (unsigned long long)atomic_load(&confirmed),
         (unsigned long long)atomic_load(&nacked), (long long)(p * copies - c), (unsigned long long)atomic_load(&out_of_order),
         (unsigned long long)atomic_load(&blocked_events), drain_s, first_error[0] ? "\"" : "null", err,
         first_error[0] ? "\"" : "");
  fflush(stdout);
  _exit(first_error[0] ? 1 : 0);
}
