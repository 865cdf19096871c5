/* compare A B: two run reports or matrix folders side by side. Two run
 * reports are compared as they are (the user named them); otherwise rows
 * are matched by (variant, workload, concurrency). For each metric a verdict,
 * "changed" or "within noise", so that a change of code can be judged by
 * numbers rather than by eye.
 *
 * A metric changed when B's median differs from A's by more than its
 * noise threshold (a share of A) and, when both sides have repeats, also
 * by more than the larger of the two min-max spreads: with 3 repeats the
 * spread is the best noise estimate there is, and a threshold alone would
 * call a noisy metric's wobble a change. The default thresholds: rps 2%
 * (repeated runs of one variant here differ by under 1%), latencies and
 * failures 5% (their tails move more), CPU per request 15% (below). From a
 * baseline of 0 (failures), any rise is a change. */
#ifndef LABREPORT_COMPARE_H
#define LABREPORT_COMPARE_H

#include <jansson.h>
#include <stdio.h>

#include "stats.h"

#define LR_NOISE_RPS_PCT 2.0
#define LR_NOISE_LATENCY_PCT 5.0
#define LR_NOISE_FAILURES_PCT 5.0
/* Two reference matrices of the same server code (2026-11-30) differed by
 * up to 13.5% in server CPU ms per request, every rps within 0.5%: a
 * container's CPU over a 30 s run is about 2 s, cold start included. */
#define LR_NOISE_CPU_PCT 15.0

enum lr_verdict {
    LR_VERDICT_NA,      /* a side lacks the figure */
    LR_VERDICT_NOISE,   /* within noise */
    LR_VERDICT_BETTER,  /* changed, for the better */
    LR_VERDICT_WORSE,   /* changed, for the worse */
};

/* a, b: the metric on each side; n is each side's number of repeats. */
enum lr_verdict lr_compare_verdict(const lr_stat_t *a, const lr_stat_t *b, int higher_is_better,
                                   double noise_pct);

typedef struct lr_compare_opts {
    double noise_pct;       /* NaN: each metric's default */
    int fail_on_regression; /* exit 1 when a metric changed for the worse */
} lr_compare_opts_t;

/* Compare the files or folders a and b, the Markdown table to out.
 * Returns the exit status: 0; 1 with fail_on_regression when a metric got
 * worse; 2 when an input cannot be read or no row matches (err says
 * why). */
int lr_compare(const char *a, const char *b, const lr_compare_opts_t *opts, FILE *out,
               char *err, size_t err_len);

#endif
