/* What the HTTP and the gRPC workers share: where a worker is in the run
 * (issuing, then draining), how an ok response counts in the measured
 * window, and the progress counters the main thread reads. */
#ifndef LG_PHASE_H
#define LG_PHASE_H

#include <stdint.h>

#include "loadgen.h"

typedef struct lg_phase {
    int issuing;                /* still issuing requests */
    uint64_t issuing_end_ns;    /* when it stopped (the load's end, or a stop) */
    uint64_t drain_deadline_ns; /* in-flight requests have until then */
} lg_phase_t;

/* The load ends at run->load_end_ns or on a stop (lg_run_stop); then nothing
 * is issued and requests in flight have until the drain deadline. */
void lg_phase_update(lg_phase_t *p, lg_run_t *run, uint64_t now);

/* Whether a client may issue its next request now: not after the load's
 * end or a stop (the phase update records when issuing ended, which is
 * the measured window's end), and with -n only while requests are left
 * (taking one). */
int lg_phase_may_issue(lg_phase_t *p, lg_run_t *run, uint64_t now);

/* The worker's loop has ended at now: when its measured window ended
 * (w->finish_ns) and its issuing (w->issuing_end_ns), and in an open loop
 * the requests planned before that and never sent are counted late. A
 * timed run's window ends with the load (requests that straddle its end
 * count for their share in it, lg_window_count_ok); a run of -n requests
 * ends with its last request (last_end_ns), or now when a stop's deadline
 * cut some short (in_flight). */
void lg_phase_finish(const lg_phase_t *p, lg_worker_t *w, int in_flight, uint64_t last_end_ns,
                     uint64_t now);

/* The run's phase as the main thread sees it at now, for the progress
 * file: "warmup", "load" or "drain" (the load is over: its end, a stop,
 * or -n's requests all handed out). */
const char *lg_phase_name(lg_run_t *run, uint64_t now);

/* The share of a span [start, end] inside the measured window, warm-up
 * end .. load end: 1 wholly inside, a fraction across an edge, 0 outside
 * (and 0 for an empty span). */
double lg_window_share(const lg_run_t *run, uint64_t start, uint64_t end);

/* An ok response issued at start ended at end: add its shares to s, where
 * both workers record a response, so no sample needs keeping:
 * - ok_in_window += the share of [start, end] (the time share). In a
 *   closed loop each client's requests tile its time, so the shares sum
 *   to window / cycle per client whatever the clients' phases; but a
 *   queued request's wait counts too, so a queue reads over its ceiling.
 * - served_in_window += the share of [end - s, end], s = min(service_ns,
 *   latency): a server of capacity C holds each request at least
 *   service_ns, so one slot's spans never overlap and the sum cannot
 *   exceed C x window / service_ns, queue or not (the headline rps).
 * - edge_error += (L - s) / L when [start, end] crosses an edge of the
 *   window: the two shares differ by at most that, and only there
 *   (docs/REPORT.md). */
void lg_window_count_ok(const lg_run_t *run, lg_stats_t *s, uint64_t start, uint64_t end);

/* The worker's progress counters: tallied in its own fields and published
 * with relaxed stores (one writer each, so no read-modify-write). */
void lg_progress_reset(lg_worker_t *w);
void lg_progress_issued(lg_worker_t *w);
/* A request ended: ok (a 2xx or gRPC OK), failed (an error, a timeout, a
 * non-2xx); an unfinished one is neither. */
void lg_progress_ended(lg_worker_t *w, int ok, int failed);

#endif
