/* The open loop's cursor, one per worker, the same for HTTP and gRPC: the
 * worker's next planned request and when it is due (schedule.h), taken
 * when a connection is free, and counted late when the load ends before
 * it could be sent. A request that waits for a free connection keeps its
 * planned time: the wait counts in its corrected latency. */
#ifndef LOADGEN_OPEN_LOOP_H
#define LOADGEN_OPEN_LOOP_H

#include "loadgen.h"

/* Worker w's first request: k = its index (of cfg->threads). */
void lg_plan_start(lg_worker_t *w);

/* Whether w's next planned request is due at now. */
static inline int lg_plan_due(const lg_worker_t *w, uint64_t now) { return w->plan.due_ns <= now; }

/* Take the due request: r gets its planned time, sent = now and whether
 * it was planned in the warm-up; the cursor moves on. */
void lg_plan_take(lg_worker_t *w, lg_req_t *r, uint64_t now);

/* Issuing ended at end_ns: every request planned before it and not sent
 * is late (once; later calls do nothing). */
void lg_plan_close(lg_worker_t *w, uint64_t end_ns);

/* When the worker should wake for its next planned request: due_ns, or
 * UINT64_MAX when the plan is done. */
static inline uint64_t lg_plan_next_ns(const lg_worker_t *w) { return w->plan.due_ns; }

#endif
