/* What the HTTP and the gRPC workers share about time: where a worker is
 * in the run (issuing, then draining) and how much of a request's time
 * falls inside the measured window. */
#ifndef LG_PHASE_H
#define LG_PHASE_H

#include <stdint.h>

#include "loadgen.h"

typedef struct lg_phase {
    int issuing;                /* still issuing requests */
    uint64_t issuing_end_ns;    /* when it stopped (the load's end, or a stop) */
    uint64_t drain_deadline_ns; /* in-flight requests have until then */
} lg_phase_t;

/* The load ends at run->load_end_ns or on a stop (run_stop); then nothing
 * is issued and requests in flight have until the drain deadline. */
void lg_phase_update(lg_phase_t *p, lg_run_t *run, uint64_t now);

/* Whether a client may issue its next request now: not after the load's
 * end or a stop (the phase update records when issuing ended, which is
 * the measured window's end), and with -n only while requests are left
 * (taking one). */
int lg_phase_may_issue(lg_phase_t *p, lg_run_t *run, uint64_t now);

/* The share of a request's time [start, end] inside the measured window,
 * warm-up end .. load end: 1 wholly inside, a fraction across an edge,
 * 0 outside. Summed over ok responses and divided by the window, it is a
 * closed loop's throughput whatever the clients' phases (lockstep rounds
 * or spread evenly): each client's requests tile its time, so its shares
 * add up to window / cycle (docs/REPORT.md). */
double lg_window_share(const lg_run_t *run, uint64_t start, uint64_t end);

#endif
