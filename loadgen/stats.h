/* Per-thread statistics: outcome buckets and every request as a sample,
 * merged after the run; exact nearest-rank percentiles. */
#ifndef LOADGEN_STATS_H
#define LOADGEN_STATS_H

#include "loadgen.h"

/* The percentiles of the report, in per mille so that 99.9 is exact. */
typedef struct lg_percentile {
    const char *label; /* "99.9" */
    unsigned per_mille; /* 999 */
} lg_percentile_t;

#define LG_PERCENTILE_COUNT 9
extern const lg_percentile_t lg_percentiles[LG_PERCENTILE_COUNT];
extern const char *const lg_err_names[LG_ERR_KINDS]; /* "connect", ... */

/* Reserve room for samples_hint samples (0 is fine). Returns 0 or -ENOMEM. */
int lg_stats_init(lg_stats_t *s, size_t samples_hint);
void lg_stats_free(lg_stats_t *s);

/* A request was issued; in_warmup: during the warm-up (not counted). */
void lg_stats_issue(lg_stats_t *s, int in_warmup);

/* The request r ended at end_ns. status is the response's status code
 * (LG_OUTCOME_RESPONSE only). Requests of the warm-up were accounted at
 * issue; a response to one is counted here only in warmup_responses.
 * Every request leaves a sample. */
void lg_stats_end(lg_stats_t *s, const lg_req_t *r, enum lg_outcome outcome, int status,
               uint64_t end_ns);

/* Open loop: a request planned at planned_ns was never sent by the load's
 * end. */
void lg_stats_late(lg_stats_t *s, uint64_t planned_ns, int in_warmup);

/* Add src's buckets and samples to dst. Returns 0 or -ENOMEM (dst is
 * unchanged then). */
int lg_stats_merge(lg_stats_t *dst, const lg_stats_t *src);

/* After the merge: make the samples' times relative to start_ns (the
 * run's start) and build the sorted latencies that percentiles read.
 * Returns 0 or -ENOMEM. */
int lg_stats_finish(lg_stats_t *s, uint64_t start_ns);

/* Sort n values ascending, as the percentiles below need. */
void lg_sort_u64(uint64_t *v, size_t n);

/* Nearest rank on sorted values: the value at index ceil(p/100 * n) - 1
 * (index 0 for p = 0). n must be > 0. */
uint64_t lg_percentile_of(const uint64_t *sorted, size_t n, unsigned per_mille);
/* The corrected latencies' percentile (lg_stats_finish first, count > 0). */
uint64_t lg_stats_percentile_ns(const lg_stats_t *s, unsigned per_mille);
uint64_t lg_stats_percentile_uncorrected_ns(const lg_stats_t *s, unsigned per_mille);

uint64_t lg_buckets_http_errors(const lg_buckets_t *b);
uint64_t lg_buckets_conn_errors(const lg_buckets_t *b);
/* http errors + timeouts + connection errors (unfinished is no failure). */
uint64_t lg_buckets_failures(const lg_buckets_t *b);
/* ok + http errors + timeouts + connection errors + unfinished. */
uint64_t lg_buckets_ended(const lg_buckets_t *b);
/* 1 when issued == lg_buckets_ended (every run) and, in an open loop,
 * issued + late == planned: the invariants. */
int lg_buckets_balanced(const lg_buckets_t *b, int open_loop);
/* Responses (ok and http errors) over the whole run, warm-up included. */
uint64_t lg_stats_answered(const lg_stats_t *s);

#endif
