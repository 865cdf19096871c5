/* One row of a matrix report: a (variant, concurrency) and its repeats,
 * each metric as {median, min, max} over them, the flags that say when a
 * figure should not be trusted, the classic study's figures for the
 * mirrored deployment, and the run files. compare also makes a row of a
 * single run report, so that both kinds of input compare alike. */
#ifndef LABREPORT_ROW_H
#define LABREPORT_ROW_H

#include <jansson.h>
#include <stddef.h>

#include "load.h"

typedef struct lr_row_in {
    const char *variant;
    const char *model;   /* the plan's description, or NULL */
    const char *classic; /* the classic deployment mirrored, or NULL */
    const char *impl;    /* "c" or "python" (lr_impl_of_program), or NULL */
    long concurrency;
    const lr_run_t *runs; /* the done repeats */
    size_t run_count;
    const double *overhead_s; /* per run (NaN: unknown), or NULL */
    size_t failed;            /* repeats that failed or never ended */
    size_t skipped;           /* repeats the plan skipped */
    const char *skip_reason;  /* the first skipped repeat's reason */
    const json_t *published;  /* lr_published_for's array, or NULL */
} lr_row_in_t;

/* The row object (its fields: docs in labreport/README.md), or NULL when
 * out of memory. */
json_t *lr_row_json(const lr_row_in_t *in);

/* The metrics a row holds as {median, min, max}, in the row's order. */
enum lr_metric_id {
    LR_M_RPS,
    LR_M_RPS_ERROR,
    LR_M_OF_CEILING,
    LR_M_MEAN_MS,
    LR_M_P50_MS,
    LR_M_P90_MS,
    LR_M_P99_MS,
    LR_M_MAX_MS,
    LR_M_FAILURES,
    LR_M_SERVER_CPU_S,
    LR_M_CPU_MS_PER_REQUEST,
    LR_M_SERVER_PEAK_MIB,
    LR_M_CALLS_PER_ANSWER,
    LR_M_SERVER_BUSY,
    LR_M_LOADGEN_BUSY,
    LR_M_SLOWAPI_BUSY,
    LR_M_OVERHEAD_S,
    LR_METRIC_COUNT
};

typedef struct lr_metric {
    const char *key; /* "rps", "mean_ms", ... */
    int decimals;    /* kept in report.json */
} lr_metric_t;
extern const lr_metric_t lr_metrics[LR_METRIC_COUNT];

#endif
