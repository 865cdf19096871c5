/* loadgen's plain data: the configuration, the target, the per-thread
 * statistics and the run state shared by the worker threads. Functions live
 * in one small module each (url.h, stats.h, schedule.h, open_loop.h,
 * http_worker.h, grpc_worker.h, health.h, report.h,
 * progress.h). */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "sample.h"
#include "schedule.h"

/* Defaults (ARCHITECTURE.md, loadgen). */
#define LG_DEFAULT_CONNECTIONS 100
#define LG_DEFAULT_DURATION_S 30.0
#define LG_DEFAULT_TIMEOUT_S 30.0
#define LG_DEFAULT_DRAIN_S 5.0

/* A connect error is retried after this pause, so a dead server does not
 * turn the client into a busy loop. */
#define LG_CONNECT_BACKOFF_NS (10 * NS_PER_MS)
/* One read buffer per thread: responses are parsed as they arrive. */
#define LG_READ_BUF_BYTES 65536
#define LG_EPOLL_EVENTS_MAX 512
/* Room reserved for the first latency samples of each connection. */
#define LG_SAMPLES_PER_CONN_HINT 64
#define LG_SAMPLES_RESERVE_MAX (1u << 18) /* 8 MiB of lab_sample_t per thread up front */
/* Descriptors: one per connection, LG_FDS_PER_THREAD per worker (epoll and
 * slack), LG_FDS_RESERVED for stdio, signalfd, eventfds, health and report. */
#define LG_FDS_PER_THREAD 4
#define LG_FDS_RESERVED 16
#define LG_PROGRESS_INTERVAL_MS 250
#define LG_HEALTH_BACKOFF_MS 50
#define LG_HEALTH_TIMEOUT_MS 2000
#define LG_HEALTH_BODY_MAX 65536
/* The progress file (--progress-file) is replaced about this often. */
#define LG_PROGRESS_FILE_INTERVAL_MS 1000
/* slowapi's GET /stats (--upstream) must answer within this. */
#define LG_UPSTREAM_TIMEOUT_MS 2000

#define LG_HOST_MAX 256
#define LG_TARGET_MAX 4096
#define LG_REQUEST_MAX (LG_TARGET_MAX + LG_HOST_MAX + 128)
/* Status codes have three digits: http_status[] is indexed by the code. */
#define LG_STATUS_MAX 1000

/* The target, from http://host[:port]/path?query. */
typedef struct lg_url {
    char host[LG_HOST_MAX];
    int port;
    char target[LG_TARGET_MAX];      /* path and query as sent: "/io?x=1" */
    char host_header[LG_HOST_MAX + 8]; /* "host:port" */
    struct sockaddr_in addr;         /* filled by lg_url_resolve */
} lg_url_t;

/* Everything the command line says. Unset optional numbers are < 0. */
typedef struct lg_config {
    const char *url_text;
    lg_url_t url;
    long connections;
    long threads;
    double duration_s;
    long long requests; /* > 0: -n mode, duration_s is ignored */
    double timeout_s;
    double warmup_s;
    double drain_s;
    double ramp_s; /* spread the connections' first requests over this */
    double wait_s; /* < 0: no --wait */
    int keepalive;
    int grpc;        /* --grpc: unary gRPC calls instead of HTTP GETs */
    const char *out_dir;
    const char *json_path;
    int no_markdown;            /* --no-markdown: --out writes the JSON only */
    const char *progress_path;  /* --progress-file, or NULL */
    const char *upstream_text;  /* --upstream: slowapi's base URL, or NULL */
    lg_url_t upstream;          /* parsed and resolved when upstream_text is set */
    const char *variant;  /* NULL: from /healthz */
    const char *workload; /* NULL: from the URL's path */
    const char *mode;
    long fanout;     /* < 0: not given */
    double delay_s;  /* < 0: not given */
    /* How long the server holds each request at least: delay_s for the io
     * workload (its upstream calls wait that long), else 0 (unknown); set
     * by main once the workload is known. The served share needs it. */
    double service_s;
    long capacity;   /* < 0: not given */
    /* --rate: the open loop's plan (schedule.h); NULL text: the closed
     * loop. */
    const char *rate_text;
    double step_s; /* --step, 0: not given */
    lg_schedule_t schedule;
    int duration_given;       /* -d was on the command line */
    const char *check_text;   /* --check, or NULL */
    const char *samples_path; /* --samples, or NULL */
    const char *instance;     /* --instance (LOADGEN_INSTANCE), or NULL */
    char samples_buf[4096];   /* --samples with the instance in its name */
    long slow_clients;        /* --slow-clients: beside the load (slow_clients.h) */
    double slow_interval_s;   /* --slow-interval */
} lg_config_t;

/* How a request ended. Every issued request ends exactly once. */
enum lg_outcome {
    LG_OUTCOME_RESPONSE, /* 2xx: ok, anything else: http error */
    LG_OUTCOME_TIMEOUT,
    LG_OUTCOME_UNFINISHED,
    LG_OUTCOME_ERR_CONNECT,
    LG_OUTCOME_ERR_READ,
    LG_OUTCOME_ERR_WRITE,
    LG_OUTCOME_ERR_PARSE,
};
#define LG_ERR_KINDS 4
#define LG_ERR_INDEX(outcome) ((int)(outcome) - (int)LG_OUTCOME_ERR_CONNECT)

/* The counted set: requests issued after the warm-up. Requests issued
 * during it are only counted in warmup_excluded. */
typedef struct lg_buckets {
    uint64_t issued;
    uint64_t ok;
    uint64_t http_status[LG_STATUS_MAX]; /* non-2xx responses by status */
    uint64_t timeouts;
    uint64_t errors[LG_ERR_KINDS]; /* connect, read, write, parse */
    uint64_t unfinished;
    /* Open loop: planned after the warm-up and never sent by the load's
     * end. issued + late = planned (counted from the plan, run.c). */
    uint64_t late;
    uint64_t planned;
    uint64_t warmup_excluded; /* issued in the warm-up (open loop: or late) */
    /* Responses (ok and http errors) to requests of the warm-up: in no
     * bucket, but slowapi's counter saw their calls (verify.answered). */
    uint64_t warmup_responses;
} lg_buckets_t;

/* A request on its way: when it was due (the open loop's plan; the
 * closed loop's send) and sent. Latencies count from planned_ns
 * (corrected) and from sent_ns (uncorrected). */
typedef struct lg_req {
    uint64_t planned_ns;
    uint64_t sent_ns;
    int in_warmup;
} lg_req_t;

/* One thread's statistics: the buckets, counted as requests end, and
 * every request as a sample (lab_sample_t, times on the monotonic clock
 * until lg_stats_finish makes them relative to the run's start), from which
 * the latencies, series and steps are derived after the run. */
typedef struct lg_stats {
    lg_buckets_t buckets;
    lab_sample_t *samples;
    size_t sample_count;
    size_t sample_cap;
    uint64_t samples_dropped; /* out of memory while growing samples */
    /* Responses (ok and http errors) of the counted set, and their
     * corrected latency's sum, min and max (kept as they end, so that a
     * dropped sample still counts there). */
    size_t count;
    uint64_t sum_ns;
    uint64_t sum_uncorrected_ns;
    uint64_t min_ns;
    uint64_t max_ns;
    /* lg_stats_finish: the count latencies, sorted, corrected (from the plan)
     * and uncorrected (from the send); the same in a closed loop. */
    uint64_t *latency_ns;
    uint64_t *uncorrected_ns;
    size_t latency_count;
    /* ok responses in the measured window (docs/REPORT.md), summed where
     * each response ends (lg_window_count_ok): */
    double ok_in_window;     /* share of its time, issue to end, inside */
    double served_in_window; /* share of its last s seconds inside (the headline) */
    double edge_error;       /* over responses across an edge: (L - s) / L */
} lg_stats_t;

/* State shared by the workers of one run: read-only once they start, except
 * the atomics. */
typedef struct lg_run {
    const lg_config_t *cfg;
    const char *request; /* pre-built, sent as is */
    size_t request_len;
    uint64_t start_ns;
    uint64_t warmup_end_ns;
    uint64_t load_end_ns;  /* UINT64_MAX in -n mode */
    uint64_t drain_end_ns; /* planned: load end + drain; UINT64_MAX in -n mode */
    uint64_t timeout_ns;
    uint64_t ramp_ns;
    /* --delay: a response's service time is min(this, its latency); 0: its
     * latency (the served share is then the time share). */
    uint64_t service_ns;
    const lg_schedule_t *schedule;     /* --rate: the open loop's plan; NULL: closed */
    int count_mode;                    /* -n: requests_left hands out requests */
    _Atomic long long requests_left;
    _Atomic int stop_level;            /* 1: stop issuing (SIGINT), 2: end the drain */
    _Atomic uint64_t drain_deadline_ns; /* set on a stop; UINT64_MAX before */
    int wake_fd; /* eventfd in every worker's epoll (edge-triggered) */
    int done_fd; /* eventfd: each worker adds 1 when it ends */
} lg_run_t;

/* The open loop's cursor in one worker's share of the plan (open_loop.h):
 * its next request k and when that is due. */
typedef struct lg_plan {
    uint64_t k;
    uint64_t due_ns; /* absolute; UINT64_MAX: the plan has no more */
    long stride;     /* the threads: this worker takes every stride-th */
} lg_plan_t;

/* What every worker thread has, whatever its protocol: the HTTP worker
 * (http_worker.c) and the gRPC one (grpc_worker.c) embed it first.
 * Allocated on its own cache lines; the progress counters are written by
 * the worker and read by the main thread. */
typedef struct lg_worker {
    lg_run_t *run;
    int index;
    size_t conn_count;
    lg_stats_t stats;
    lg_plan_t plan;     /* open loop only */
    uint64_t finish_ns; /* the last request ended (or the drain cut it) */
    uint64_t issuing_end_ns; /* when it stopped issuing (the load's end or a stop) */
    int fatal_errno;    /* its wait failed: the worker stopped early */
    pthread_t thread;
    /* The worker's own tallies (lg_progress_issued/_ended), published
     * below for the main thread's progress line and file. */
    uint64_t tally_issued, tally_ended, tally_ok, tally_failed;
    _Alignas(64) _Atomic uint64_t progress_issued;
    _Atomic uint64_t progress_ended;
    _Atomic uint64_t progress_ok;
    _Atomic uint64_t progress_failed;
} lg_worker_t;

#endif
