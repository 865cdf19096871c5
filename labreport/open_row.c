#include "open_row.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "stats.h"

/* Rates are typed by people (25) and printed by loadgen (25.0, or 24.999
 * after a round trip through a double): equal within this share. */
#define RATE_TOLERANCE 1e-9
/* A flag names at most this many measured values (one per failing run). */
#define CHECK_VALUES_SHOWN 4

double lr_run_rate(const json_t *report)
{
    const json_t *rate = json_object_get(json_object_get(report, "config"), "rate");
    const char *schedule = lr_jstr_get(rate, "schedule");
    if (schedule == NULL || strcmp(schedule, "constant") != 0)
        return NAN;
    const json_t *first = json_array_get(json_object_get(rate, "rates"), 0);
    double r = json_is_number(first) ? json_number_value(first) : NAN;
    return r > 0 ? r : NAN;
}

int lr_run_is_open(const json_t *report)
{
    const json_t *config = json_object_get(report, "config");
    const char *load = lr_jstr_get(config, "load");
    return (load != NULL && strcmp(load, "open") == 0) ||
           json_is_object(json_object_get(config, "rate"));
}

int lr_same_rate(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fabs(a - b) <= RATE_TOLERANCE * fmax(fabs(a), fabs(b));
}

int lr_same_point(const json_t *row_a, const json_t *row_b)
{
    return lr_jnum_get(row_a, "concurrency") == lr_jnum_get(row_b, "concurrency") &&
           lr_same_rate(lr_jnum_get(row_a, "rate"), lr_jnum_get(row_b, "rate"));
}

/* {median, min, max} of a figure of each run (NaN: the run lacks it). */
static json_t *stat_over_runs(const lr_run_t *runs, size_t n,
                              double (*figure)(const json_t *), int decimals, int *failed)
{
    lr_stat_t s = {NAN, NAN, NAN, 0};
    double *v = n ? malloc(n * sizeof *v) : NULL;
    if (n && v == NULL) {
        *failed = 1;
        return NULL;
    }
    for (size_t k = 0; k < n; k++)
        v[k] = figure(runs[k].json);
    if (n && lr_stat_of(v, n, &s) < 0)
        *failed = 1;
    free(v);
    return lr_stat_json(&s, decimals);
}

static double p99_uncorrected(const json_t *report)
{
    return lr_jnum_at(report, "percentiles_uncorrected_ms", "99");
}

static double late(const json_t *report)
{
    return lr_jnum_at(report, "summary", "late");
}

/* A check's measured value as a flag shows it: "1834.2 ms", "not measured". */
static void check_value(char *out, size_t cap, const json_t *check)
{
    const json_t *value = json_object_get(check, "value");
    const char *unit = lr_jstr_get(check, "unit");
    if (!json_is_number(value))
        snprintf(out, cap, "not measured");
    else
        snprintf(out, cap, "%.6g%s%s", json_number_value(value),
                 unit && strcmp(unit, "%") != 0 ? " " : "", unit ? unit : "");
}

static int failed_check(const json_t *check)
{
    return json_is_object(check) && json_is_false(json_object_get(check, "pass")) &&
           lr_jstr_get(check, "expr") != NULL;
}

/* 1 when an earlier run (or an earlier check of run k) failed expr: its
 * flag is written once, for every run. */
static int flagged_before(const lr_run_t *runs, size_t k, size_t i, const char *expr)
{
    for (size_t r = 0; r <= k; r++) {
        const json_t *checks = json_object_get(runs[r].json, "checks");
        size_t end = r < k ? json_array_size(checks) : i;
        for (size_t j = 0; j < end; j++) {
            const json_t *c = json_array_get(checks, j);
            if (failed_check(c) && strcmp(lr_jstr_get(c, "expr"), expr) == 0)
                return 1;
        }
    }
    return 0;
}

/* "check failed: p99<1100ms (1834.2 ms)"; with repeats, "check failed in
 * 2 of 3 runs: p99<1100ms (1834.2 ms, 1901 ms)". */
static void check_flag(json_t *flags, const lr_run_t *runs, size_t n, const char *expr,
                       int *failed)
{
    char text[512], value[64];
    size_t fails = 0, shown = 0, len = 0;
    char values[320] = "";
    for (size_t k = 0; k < n; k++) {
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(runs[k].json, "checks"), i, c) {
            if (!failed_check(c) || strcmp(lr_jstr_get(c, "expr"), expr) != 0)
                continue;
            fails++;
            if (shown++ < CHECK_VALUES_SHOWN && len < sizeof values) {
                check_value(value, sizeof value, c);
                int w = snprintf(values + len, sizeof values - len, "%s%s", len ? ", " : "",
                                 value);
                len += w > 0 ? (size_t)w : 0;
            }
            break;
        }
    }
    if (n > 1)
        snprintf(text, sizeof text, "check failed in %zu of %zu runs: %s (%s%s)", fails, n,
                 expr, values, shown > CHECK_VALUES_SHOWN ? ", ..." : "");
    else
        snprintf(text, sizeof text, "check failed: %s (%s)", expr, values);
    lr_jappend(flags, json_string(text), failed);
}

static void check_flags(json_t *row, const lr_run_t *runs, size_t n, int *failed)
{
    json_t *flags = json_object_get(row, "flags");
    if (!json_is_array(flags))
        return;
    for (size_t k = 0; k < n; k++) {
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(runs[k].json, "checks"), i, c) {
            if (failed_check(c) && !flagged_before(runs, k, i, lr_jstr_get(c, "expr")))
                check_flag(flags, runs, n, lr_jstr_get(c, "expr"), failed);
        }
    }
}

int lr_open_loop_row(json_t *row, const lr_run_t *runs, size_t run_count, double rate)
{
    int failed = 0, open = !isnan(rate);
    for (size_t k = 0; k < run_count && !open; k++)
        open = lr_run_is_open(runs[k].json);
    if (open) {
        lr_jset(row, "rate", lr_jnum(rate, 3), &failed);
        lr_jset(row, "p99_uncorrected_ms",
                stat_over_runs(runs, run_count, p99_uncorrected, 3, &failed), &failed);
        lr_jset(row, "late", stat_over_runs(runs, run_count, late, 1, &failed), &failed);
    }
    check_flags(row, runs, run_count, &failed);
    return failed ? -ENOMEM : 0;
}
