/* Pass/fail checks on a run report: loadgen's and labreport's
 * `--check 'p99<1100ms,rps>95,failures=0'`. The text is parsed whole
 * before anything runs, so that a mistyped check stops the run at once
 * instead of passing silently (k6 #1526); then each check is evaluated
 * against the report's JSON (docs/REPORT.md), printed with its measured
 * value and verdict, and kept in the report's "checks" array.
 *
 * An expression is METRIC OP NUMBER[UNIT], blanks allowed around each
 * token; OP is <, <=, >, >=, =, == or !=. The metrics:
 *   latency (unit ms by default, or us, s): p50 p60 p70 p80 p90 p95 p99
 *     p99.9 p100 (percentiles_ms: corrected in an open loop), max, min,
 *     mean (summary.*_ms), p<N>_uncorrected (percentiles_uncorrected_ms);
 *   counts (no unit): failures ok issued timeouts unfinished late errors
 *     http_errors (the last two summed over their kinds);
 *   rates: rps (no unit), error_rate (failures / issued) and of_ceiling
 *     (ceiling.measured_over_ceiling), fractions, or in % with the unit.
 * A figure the report does not have (null) fails its check with a note
 * ("not measured", "no ceiling"); it is never skipped. */
#ifndef LAB_RUN_CHECK_H
#define LAB_RUN_CHECK_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* More would be a script, not a command line. */
#define RUN_CHECK_MAX 32
/* An expression as kept (blanks around it trimmed), NUL included. */
#define RUN_CHECK_EXPR_MAX 96
/* The exit status of a run whose checks did not all pass (loadgen,
 * labreport check); a malformed check is bad usage, 2. */
#define RUN_CHECK_EXIT_FAILED 3

typedef enum {
    RUN_CHECK_LT,
    RUN_CHECK_LE,
    RUN_CHECK_GT,
    RUN_CHECK_GE,
    RUN_CHECK_EQ, /* "=" or "==" */
    RUN_CHECK_NE,
} run_check_op_t;

typedef struct run_check {
    char expr[RUN_CHECK_EXPR_MAX]; /* as written, e.g. "p99<1100ms" */
    const char *metric;            /* its name, e.g. "p99.9_uncorrected" (static) */
    run_check_op_t op;
    double threshold; /* as written, in unit */
    const char *unit; /* "ms", "us", "s", "%" (static); "ms" when a latency
                       * has none written; NULL for a metric without unit */
    int metric_id;    /* internal: the metric's row */
    double scale;     /* internal: one unit in the metric's own (ms, fraction) */
} run_check_t;

typedef struct run_check_list {
    size_t count;
    run_check_t items[RUN_CHECK_MAX];
} run_check_list_t;

typedef struct run_check_result {
    double value;     /* the measured figure in the check's unit; NAN when the
                       * report does not have it */
    int pass;         /* 1 or 0 */
    const char *note; /* why there is no value ("not measured", "no ceiling",
                       * "no request issued"), else NULL (static) */
} run_check_result_t;

/* Parse comma-separated expressions into out. Returns 0, or -EINVAL with
 * a message in err that names the bad expression and what was expected
 * (an unknown metric: the list of known ones); out is then undefined. */
int run_check_parse(const char *text, run_check_list_t *out, char *err, size_t err_len);

/* Evaluate every check of list against a run report; results has
 * list->count entries. Returns how many failed.
 * "=", "!=" and the "or equal" of "<=", ">=" allow half the JSON's
 * rounding: 0.0005 ms for latencies, 0.0005 for rps (3 decimals),
 * 0.00005 for of_ceiling (4); counts compare exactly, and error_rate,
 * computed from counts, within 1e-12 (so that 3% equals 3 of 100). */
int run_check_eval(const run_check_list_t *list, const json_t *report,
                   run_check_result_t *results);

/* The report's "checks" array: [{"expr", "metric", "op", "threshold",
 * "unit" (null without one), "value" (null when not measured), "pass"}],
 * op as "<", "<=", ">", ">=", "=", "!=". NULL when out of memory. */
json_t *run_check_json(const run_check_list_t *list, const run_check_result_t *results);

/* One aligned line per check, "check p99<1100ms: 1003.2 ms  pass" (FAIL,
 * and the note in place of the value), then "checks: N passed, M failed". */
void run_check_print(FILE *f, const run_check_list_t *list, const run_check_result_t *results);

/* "<", "<=", ">", ">=", "=", "!="; NULL for a value out of range. */
const char *run_check_op_name(run_check_op_t op);

#endif
