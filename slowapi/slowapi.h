/* slowapi: the lab's slow upstream. One libuv loop answers GET /?delay=S
 * after S seconds with a timer per request, so a single process holds tens
 * of thousands of waiting requests without a thread each. It speaks
 * HTTP/1.1 and, on the same port, HTTP/2 over cleartext (h2c), with prior
 * knowledge or by an HTTP/1.1 Upgrade: many waiting requests as streams of
 * one connection.
 *
 *   main.c          configuration (flags, environment), file limit, exit codes
 *   server.c        the loop: listening, accepting in batches under a cap, signals
 *   conn.c          one connection's state machine: read, parse, wait, write;
 *                   its first bytes tell HTTP/1.1 from h2c, or a request
 *                   upgrades it to h2c
 *   h2.c            an h2c connection: nghttp2 session, one request per stream
 *   route.c         what to answer to a parsed request (either protocol)
 *   delay_timer.c   when delayed answers are due: one timerfd, ns precision
 *   deadline_heap.c the waiting requests' deadlines, earliest first
 *   stats.c         GET /stats: lateness of delayed answers, connections,
 *                   and calls_total, the one figure every worker shares
 *   histogram.c     the lateness histogram (log-linear, fixed memory) */
#ifndef SLOWAPI_H
#define SLOWAPI_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "delay_timer.h"
#include "faults.h"
#include "histogram.h"
#include "http_request.h"
#include "http_response.h"

#define SLOWAPI_DEFAULT_PORT 8001
#define SLOWAPI_DEFAULT_BACKLOG 4096
#define SLOWAPI_DEFAULT_DELAY_S 1.0
#define SLOWAPI_MAX_DELAY_S 60.0
/* Consecutive ports at most (workers.c says why there are several). */
#define SLOWAPI_PORTS_MAX 16
/* One read's worth of bytes; libuv asks for 64 KiB per read. */
#define SLOWAPI_READ_BUF_BYTES (64 * 1024)

/* GET /stats' calls_total lives in memory shared by every worker process
 * (stats_counter_new). A lock-based atomic keeps its lock in one process's
 * memory, where it would not exclude the other processes; lock-free ones
 * are the address-free kind the standard means to work across processes,
 * hence the assertion. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "calls_total needs a lock-free 64-bit atomic");
typedef atomic_ullong stats_counter_t;

typedef struct {
    const char *host; /* IPv4 listen address */
    int port;         /* 0 = any free port; the first of ports */
    int ports;        /* consecutive ports, one or more workers on each */
    int backlog;
    int ready_fd;     /* -1 = nobody waits for us */
    int workers;      /* processes on the port (workers.c); 1: just this one */
    int reuseport;    /* listen with SO_REUSEPORT (a worker of several) */
    size_t max_conns; /* open connections at most, from RLIMIT_NOFILE */
    stats_counter_t *calls_total; /* shared memory made before any fork (main.c) */
    faults_t faults;  /* FAULTS: every request's, which a query may change */
    uint64_t fault_seed; /* FAULT_SEED; worker i draws from seed + i */
    uint64_t stall_ns, stall_every_ns; /* STALL S/T: the loop stops S every T; 0: never */
} slowapi_config_t;

typedef struct conn_s conn_t;
typedef struct h2_session_s h2_session_t;

/* A request waiting in server->delays for its answer: an HTTP/1.1
 * connection's (conn.c) or an HTTP/2 stream's (h2.c). The heap knows only
 * deadlines; due_cb says whose this one is. */
typedef struct delayed_s delayed_t;
struct delayed_s {
    deadline_t deadline;
    void (*due_cb)(delayed_t *d); /* deadline reached, no longer queued */
};

/* What GET /stats reports (stats.c). "Since the last reset": since start,
 * or since the last GET /stats?reset=1. Every field is this process's,
 * except calls_total. */
typedef struct {
    uint64_t answered;     /* delayed answers written since the last reset */
    histogram_t lateness_us; /* of those: write issued - (parse + delay) */
    size_t conns;          /* open now */
    size_t peak_conns;     /* most open at once since the last reset */
    /* Delayed answers written since slowapi started, by every worker
     * process: the upstream calls a benchmark's server made, for loadgen
     * --upstream to check against the requests it answered. Never reset:
     * loadgen takes a difference over its run, and a reset meanwhile (a
     * bench script starting its own window) would spoil it. */
    stats_counter_t *calls_total;
} slowapi_stats_t;

/* GET /healthz's answer: the CPU model, cut at HEALTH_CPU_MODEL_MAX - 1
 * bytes, and the JSON around it. */
#define HEALTH_CPU_MODEL_MAX 128
#define HEALTH_BODY_MAX (HEALTH_CPU_MODEL_MAX + 32)

typedef struct server_s {
    const slowapi_config_t *config;
    uv_loop_t loop;
    int listen_fd;          /* ours; libuv listens on a dup of it (server.c) */
    uv_tcp_t *listener;     /* NULL while accepting is paused or stopped */
    uv_timer_t resume_timer;
    uv_timer_t stall_timer; /* STALL: a stalled process, as a GC pause or a swap */
    uv_check_t accept_check;  /* after each iteration's I/O: next accept batch */
    uv_signal_t sigterm;
    uv_signal_t sigint;
    int signal_handles;     /* how many of sigterm, sigint are initialised */
    conn_t *conns;          /* every open connection, to close them on stop */
    size_t conn_count;
    delay_timer_t delays;   /* every request waiting for its answer */
    h2_session_t *h2_answered; /* h2c sessions with answers to write (h2.c) */
    uint64_t fault_rng;     /* faults_draw's state (faults.h) */
    slowapi_stats_t stats;
    /* GET /healthz's answer, made once: the CPU model says on what slowapi
     * ran when the lab's programs run on different nodes (run.sh --swarm). */
    char health_body[HEALTH_BODY_MAX];
    size_t health_len;
    int accept_held;        /* libuv holds an accepted socket for us */
    int accepts_this_iteration;
    uint64_t last_cap_warn_ms;
    int stopping;
    uint64_t accept_errors;
    uint64_t last_accept_warn_ms;
    /* Every connection reads into this one buffer: libuv calls read_cb
     * right after each alloc_cb, and conn.c copies what it must keep. */
    char read_buf[SLOWAPI_READ_BUF_BYTES];
} server_t;

/* route.c: the answer to one parsed request. */
#define ANSWER_BODY_MAX 256
_Static_assert(HEALTH_BODY_MAX <= ANSWER_BODY_MAX, "GET /healthz's answer fits an answer");

typedef struct {
    int status;
    uint64_t delay_ns; /* answer this long after the request was parsed */
    fault_t fault;     /* at the deadline: reset instead, or never answer */
    char body[ANSWER_BODY_MAX];
    size_t body_len;
} answer_t;

/* A function of the request, except GET /stats, which reads s's stats
 * (and with ?reset=1 resets them after reading), and the faults, drawn
 * from s's generator. */
void route_request(const http_request_t *req, server_t *s, answer_t *out);

/* A JSON error answer without a delay (400 bad delay, 404, 405, 431, ...). */
void route_error(answer_t *out, int status, const char *message);

/* GET /healthz's body into buf: {"status":"ok","cpu_model":"..."}, the
 * model cut to fit. Returns its length. */
size_t route_health_body(char *buf, size_t cap);

/* stats.c */
/* calls_total's counter, 0, in anonymous MAP_SHARED memory: made before the
 * workers are forked, it is the same counter in all of them. Returns NULL
 * (errno set) when mmap fails. */
stats_counter_t *stats_counter_new(void);
/* Returns 0 or -errno from munmap(2). */
int stats_counter_free(stats_counter_t *counter);
/* calls_total: the shared counter (stats_counter_new), not owned. */
void stats_init(slowapi_stats_t *stats, stats_counter_t *calls_total);
/* A delayed answer's write is being issued late_ns after its deadline: one
 * more for this window and for calls_total. */
void stats_record_lateness(slowapi_stats_t *stats, uint64_t late_ns);
void stats_conn_opened(slowapi_stats_t *stats);
void stats_conn_closed(slowapi_stats_t *stats);
/* The JSON object of GET /stats into buf. Returns its length, or -1 when
 * it does not fit. */
int stats_format(const slowapi_stats_t *stats, char *buf, size_t cap);
/* Start a new window: no answers, peak = connections open now; calls_total
 * goes on. */
void stats_reset(slowapi_stats_t *stats);

/* server.c */
int server_run(const slowapi_config_t *config);
/* server_run's first step: s (zeroed) gets config, its loop, timers,
 * stats, fault generator and delay timer; nothing listens. Returns 0, or
 * a negative libuv error (logged) with nothing left open. The fuzz
 * harnesses (fuzz/) serve connections of their own (conn_open) on it. */
int server_init(server_t *s, const slowapi_config_t *config);

/* config->workers processes, each a server_run on the same port with its
 * own SO_REUSEPORT socket, for more waiting requests than one process may
 * hold descriptors for. This process waits for SIGTERM/SIGINT, passes it
 * on and exits 0; if a worker dies, it stops the others and exits 1. */
int workers_run(slowapi_config_t *config);
/* A connection is gone (handles closed, memory freed): room for another. */
void server_conn_closed(server_t *s);

/* conn.c */
/* Accept the connection libuv holds on listener into a new conn_t and start
 * reading. Returns 0 or a negative libuv error (nothing is left open). */
int conn_accept(server_t *s, uv_stream_t *listener);
/* The same for a socket already connected (a socketpair's end, say): for
 * the fuzz harnesses, which write a connection's bytes from a buffer.
 * Nagle is left alone (it is TCP's). Returns 0 or a negative libuv error;
 * fd is the connection's either way (closed with it, or at once). */
int conn_open(server_t *s, uv_os_sock_t fd);
/* Close every connection at once, whatever its state (pending delayed
 * answers are dropped): the server is stopping. */
void conn_close_all(server_t *s);
/* For h2.c, which drives a connection once it has turned HTTP/2: */
void conn_close(conn_t *c);
/* The last bytes are queued: FIN after them, drop what still comes, close. */
void conn_linger(conn_t *c);
/* Returns 0 or a negative libuv error. */
int conn_start_reading(conn_t *c);
void conn_stop_reading(conn_t *c);

/* h2.c */
typedef enum {
    H2_PREFACE_NO,      /* not HTTP/2: HTTP/1.1 */
    H2_PREFACE_PARTIAL, /* a prefix of the preface: wait for more bytes */
    H2_PREFACE_YES,     /* the whole 24-byte client preface */
} h2_preface_t;

/* Do a connection's first len (> 0) bytes start with the h2 preface? */
h2_preface_t h2_preface_match(const char *data, size_t len);
/* An HTTP/2 server session on c's stream, our SETTINGS queued. Returns 0
 * or -ENOMEM (*out is then NULL). */
int h2_session_new(server_t *s, conn_t *c, uv_stream_t *stream, h2_session_t **out);
/* The same for an HTTP/1.1 connection whose request req (whole, no body)
 * asked for h2c (RFC 7540 3.2) with settings_b64 as HTTP2-Settings: the
 * 101 answer is queued before our SETTINGS, the client's settings applied,
 * and req is stream 1, answered as on any stream. The client's preface
 * comes next, through h2_session_recv. Returns 0, -EINVAL (HTTP2-Settings
 * not a valid SETTINGS payload: nothing was sent, answer req over
 * HTTP/1.1), or -ENOMEM (*out is NULL on error). */
int h2_session_upgrade(server_t *s, conn_t *c, uv_stream_t *stream, const char *settings_b64,
                       size_t settings_b64_len, const http_request_t *req, h2_session_t **out);
/* Bytes received, the first ones starting with the preface. Returns 0, or
 * a negative error: close the connection. May call conn_linger. */
int h2_session_recv(h2_session_t *h, const char *data, size_t len);
/* The connection is closing: waiting streams leave the heap now, and the
 * session touches the connection no more. */
void h2_session_cancel(h2_session_t *h);
/* After the connection's handles are closed (h may be NULL). */
void h2_session_free(h2_session_t *h);
/* Write out the answers the last run of server->delays queued: one write
 * per h2c connection, not one per answer. */
void h2_flush_answered(server_t *s);

#endif
