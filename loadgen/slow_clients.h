/* --slow-clients N: slowloris-style connections beside the measured load.
 * Each opens a connection to the server and never finishes its request:
 * it sends a request line and then one header line every interval (for a
 * gRPC server, the HTTP/2 preface one byte per interval). A connection the
 * server closes is opened again, so N stay. Meanwhile, for an HTTP server,
 * a probe asks GET /healthz on a connection of its own every
 * LG_SLOW_PROBE_INTERVAL_MS: how long the server takes to answer a new
 * client while the slow ones hold their places.
 * One thread of its own, with its own epoll loop: the measured workers do
 * not share it. */
#ifndef LOADGEN_SLOW_CLIENTS_H
#define LOADGEN_SLOW_CLIENTS_H

#include <stddef.h>
#include <stdint.h>

#include "loadgen.h"

#define LG_SLOW_DEFAULT_INTERVAL_S 1.0
#define LG_SLOW_PROBE_INTERVAL_MS 200
/* A probe not answered in this long counts as failed. */
#define LG_SLOW_PROBE_TIMEOUT_MS 5000
/* Before the measured load starts, the slow clients' connects are given
 * up to this long to complete (a thread model then holds them first). */
#define LG_SLOW_START_TIMEOUT_MS 5000
/* A connection the server closed is opened again after this pause. */
#define LG_SLOW_RECONNECT_MS 100
/* Descriptors beyond the N connections: epoll, timer, stop, probe. */
#define LG_SLOW_FDS 4

typedef struct lg_slow_clients lg_slow_clients_t;

/* What the slow clients saw, for the report. */
typedef struct lg_slow_result {
    long count;        /* N */
    double interval_s; /* one header line (gRPC: one preface byte) per interval */
    long connected_at_start; /* connected when the measured load started */
    uint64_t connects;       /* connections made, the first ones and again */
    uint64_t connect_errors;
    uint64_t closed_by_server; /* closed or reset by the server */
    uint64_t answered;         /* of those, with an HTTP answer first */
    uint64_t status_408, status_431, status_other; /* those answers */
    double held_max_s;     /* the longest a closed connection was held */
    long held_at_end;      /* open when the slow clients stopped */
    int probed;            /* 0: no probe (a gRPC server) */
    uint64_t probes, probes_ok, probes_failed; /* ok: 200 within the timeout */
    /* Over every probe: one that timed out counts with the time it waited. */
    double probe_p50_ms, probe_p99_ms, probe_max_ms;
} lg_slow_result_t;

/* Start cfg->slow_clients connections to cfg->url (resolved) and, unless
 * cfg->grpc, the /healthz probe; wait until every first connect has ended
 * (connected or failed), at most LG_SLOW_START_TIMEOUT_MS. Returns 0 or -1
 * with a message in err. */
int lg_slow_clients_start(const lg_config_t *cfg, lg_slow_clients_t **out, char *err,
                          size_t err_len);

/* Close every slow connection, end the thread, fill res and free s. */
void lg_slow_clients_stop(lg_slow_clients_t *s, lg_slow_result_t *res);

#endif
