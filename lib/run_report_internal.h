/* Private to lib/run_report.c, run_report_open.c and run_report_scenario.c: the typed
 * look-ups both read the report with, and the open loop's lines and
 * sections (run_report_open.c), which the summary and the Markdown call
 * in their places. Each prints nothing when its fields are absent, which
 * is how an older report renders as it always did. */
#ifndef LAB_RUN_REPORT_INTERNAL_H
#define LAB_RUN_REPORT_INTERNAL_H

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "run_report.h"

/* The keys of percentiles_ms, in the report's order (docs/REPORT.md). */
static const char *const rr_percentiles[] = {"50", "60", "70", "80", "90",
                                             "95", "99", "99.9", "100"};
#define RR_PERCENTILE_COUNT (sizeof rr_percentiles / sizeof rr_percentiles[0])

/* ---- reading the JSON: a missing or mistyped field is "absent" ---- */

static inline const json_t *rr_get(const json_t *obj, const char *key)
{
    return json_is_object(obj) ? json_object_get(obj, key) : NULL;
}

/* 1 and *out when obj.key is a number (integer or real), else 0. */
static inline int rr_number(const json_t *obj, const char *key, double *out)
{
    const json_t *v = rr_get(obj, key);
    if (!json_is_number(v))
        return 0;
    *out = json_number_value(v);
    return 1;
}

static inline double rr_num(const json_t *obj, const char *key)
{
    double v = 0;
    return rr_number(obj, key, &v) ? v : 0;
}

static inline long long rr_int(const json_t *obj, const char *key)
{
    const json_t *v = rr_get(obj, key);
    if (json_is_integer(v))
        return (long long)json_integer_value(v);
    return json_is_real(v) ? (long long)json_real_value(v) : 0;
}

static inline const char *rr_str(const json_t *obj, const char *key, const char *absent)
{
    const json_t *v = rr_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : absent;
}

/* config.protocol "grpc": the codes in http_errors are gRPC's. */
static inline int run_report__is_grpc(const json_t *run)
{
    return strcmp(rr_str(rr_get(run, "config"), "protocol", "http"), "grpc") == 0;
}

/* ---- the scenario (run_report_scenario.c): faults, slow clients, worker
 * kills; resources (run.sh's server.json) may be NULL ---- */

int run_report__has_scenario(const json_t *run, const json_t *resources);
/* "Scenario: faults ...; 500 slow clients (...); 3 worker kills" */
void run_report__print_scenario(FILE *f, const json_t *run, const json_t *resources);
/* "## Scenario": each part's expected outcome beside the measured one. */
void run_report__md_scenario(FILE *f, const json_t *run, const json_t *resources);

/* ---- the open loop's lines (run_report_open.c) ---- */

/* config.load "open" (or, without config.load, a config.rate). */
int run_report__is_open(const json_t *run);
/* "Load: open loop at 90 req/s (constant)" then end; nothing when closed. */
void run_report__print_load(FILE *f, const json_t *run, const char *end);
/* The corrected and uncorrected latencies, two rows, and what corrected
 * means: text (the summary) and a Markdown table. */
void run_report__print_latency_table(FILE *f, const json_t *run);
void run_report__md_latency_table(FILE *f, const json_t *run);
/* "Ceiling: ..." of an open loop, capacity already as text. */
void run_report__print_open_ceiling(FILE *f, const json_t *run, const char *capacity);
/* The steps table, text and Markdown section. */
void run_report__print_steps(FILE *f, const json_t *run);
void run_report__md_steps(FILE *f, const json_t *run);
/* The checks, one line each, and as a Markdown section. */
void run_report__print_checks(FILE *f, const json_t *run);
void run_report__md_checks(FILE *f, const json_t *run);
/* "Samples: FILE (N rows, ...)"; code quotes FILE ("`" in Markdown). */
void run_report__print_samples(FILE *f, const json_t *run, const char *code);
/* Markdown only: the chart of the series (chart NULL: none drawn, no
 * section) and the wrk2 percentile spectrum. */
void run_report__md_over_time(FILE *f, const json_t *run, const char *chart);
void run_report__md_spectrum(FILE *f, const json_t *run);

#endif
