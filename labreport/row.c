#include "row.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "jsonutil.h"
#include "run_report.h"
#include "stats.h"

/* Index of the p50, p90 and p99 in lr_pct_keys. */
#define PCT_50 0
#define PCT_90 4
#define PCT_99 6
/* Above this share over its ceiling, a headline rps is flagged: schema 3's
 * served-share rps cannot exceed the ceiling, so more than rounding is a
 * defect (or an older schema's estimator). */
#define OVER_CEILING_TOLERANCE 0.001

/* The ceiling is one number per row, not a {median, min, max}, but it is
 * gathered like the metrics (repeats share it), under this index. */
#define STAT_CEILING LR_METRIC_COUNT
#define STAT_COUNT (LR_METRIC_COUNT + 1)

const lr_metric_t lr_metrics[LR_METRIC_COUNT] = {
    [LR_M_RPS] = {"rps", 3},
    [LR_M_RPS_ERROR] = {"rps_error", 3},
    [LR_M_OF_CEILING] = {"of_ceiling", 4},
    [LR_M_MEAN_MS] = {"mean_ms", 3},
    [LR_M_P50_MS] = {"p50_ms", 3},
    [LR_M_P90_MS] = {"p90_ms", 3},
    [LR_M_P99_MS] = {"p99_ms", 3},
    [LR_M_MAX_MS] = {"max_ms", 3},
    [LR_M_FAILURES] = {"failures", 1},
    [LR_M_SERVER_CPU_S] = {"server_cpu_s", 2},
    [LR_M_CPU_MS_PER_REQUEST] = {"server_cpu_ms_per_request", 4},
    [LR_M_SERVER_PEAK_MIB] = {"server_peak_mib", 1},
    [LR_M_CALLS_PER_ANSWER] = {"calls_per_answer", 2},
    [LR_M_SERVER_BUSY] = {"server_busy", 4},
    [LR_M_LOADGEN_BUSY] = {"loadgen_busy", 4},
    [LR_M_SLOWAPI_BUSY] = {"slowapi_busy", 4},
    [LR_M_OVERHEAD_S] = {"overhead_s", 2},
};

/* The value of metric i (an lr_metric_id or STAT_CEILING) for repeat k. */
static double metric_value(const lr_row_in_t *in, size_t i, size_t k)
{
    const lr_run_t *r = &in->runs[k];
    switch (i) {
    case LR_M_RPS: return r->rps;
    case LR_M_RPS_ERROR: return r->rps_error;
    case LR_M_OF_CEILING: return r->of_ceiling;
    case LR_M_MEAN_MS: return r->mean_ms;
    case LR_M_P50_MS: return r->pct_ms[PCT_50];
    case LR_M_P90_MS: return r->pct_ms[PCT_90];
    case LR_M_P99_MS: return r->pct_ms[PCT_99];
    case LR_M_MAX_MS: return r->max_ms;
    case LR_M_FAILURES: return r->failures;
    case LR_M_SERVER_CPU_S: return r->server_cpu_s;
    case LR_M_CPU_MS_PER_REQUEST: return r->cpu_ms_per_request;
    case LR_M_SERVER_PEAK_MIB: return r->server_peak_mib;
    case LR_M_CALLS_PER_ANSWER: return r->calls_per_answer;
    case LR_M_SERVER_BUSY: return r->server_busy;
    case LR_M_LOADGEN_BUSY: return r->loadgen_busy;
    case LR_M_SLOWAPI_BUSY: return r->slowapi_busy;
    case LR_M_OVERHEAD_S: return in->overhead_s ? in->overhead_s[k] : NAN;
    default: return r->ceiling_rps;
    }
}

/* The stat of metric i over the repeats; n = 0 when out of memory too. */
static lr_stat_t metric_stat(const lr_row_in_t *in, size_t i, int *failed)
{
    lr_stat_t s = {NAN, NAN, NAN, 0};
    if (in->run_count == 0)
        return s;
    double *v = malloc(in->run_count * sizeof *v);
    if (v == NULL) {
        *failed = 1;
        return s;
    }
    for (size_t k = 0; k < in->run_count; k++)
        v[k] = metric_value(in, i, k);
    if (lr_stat_of(v, in->run_count, &s) < 0)
        *failed = 1;
    free(v);
    return s;
}

static void flag(json_t *flags, int *failed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void flag(json_t *flags, int *failed, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    lr_jappend(flags, json_string(text), failed);
}

/* The verification that is furthest off among repeats whose verdict was
 * short or over; NULL when every repeat was ok or not verified. */
static const lr_run_t *worst_verify(const lr_row_in_t *in)
{
    const lr_run_t *worst = NULL;
    for (size_t k = 0; k < in->run_count; k++) {
        const lr_run_t *r = &in->runs[k];
        if ((strcmp(r->verify_verdict, "short") != 0 && strcmp(r->verify_verdict, "over") != 0) ||
            !isfinite(r->calls_per_answer) || !isfinite(r->calls_expected))
            continue;
        if (worst == NULL || fabs(r->calls_per_answer - r->calls_expected) >
                                 fabs(worst->calls_per_answer - worst->calls_expected))
            worst = r;
    }
    return worst;
}

static json_t *row_flags(const lr_row_in_t *in, const lr_stat_t *stats, int *failed)
{
    json_t *flags = json_array();
    const char *helpers[2] = {"loadgen", "slowapi"};
    const lr_stat_t *busy[2] = {&stats[LR_M_LOADGEN_BUSY], &stats[LR_M_SLOWAPI_BUSY]};
    for (int h = 0; h < 2; h++)
        if (busy[h]->n > 0 && busy[h]->max >= RUN_REPORT_BUSY_WARN)
            flag(flags, failed, "%s busy %.0f%%: not measuring the server", helpers[h],
                 busy[h]->max * 100);
    const lr_run_t *off = worst_verify(in);
    if (off != NULL)
        flag(flags, failed, "calls per answer %g, expected %g",
             round(off->calls_per_answer * 100) / 100, off->calls_expected);
    const lr_stat_t *rps = &stats[LR_M_RPS], *err = &stats[LR_M_RPS_ERROR];
    const lr_stat_t *ceiling = &stats[STAT_CEILING];
    double margin = err->n > 0 ? err->median : 0;
    char r[LR_FMT_MAX], c[LR_FMT_MAX];
    if (rps->n > 0 && ceiling->n > 0 && ceiling->median > 0 &&
        rps->median - margin > ceiling->median * (1 + OVER_CEILING_TOLERANCE))
        flag(flags, failed, "rps %s over its ceiling %s", lr_fmt(r, rps->median, LR_FMT_RPS),
             lr_fmt(c, ceiling->median, LR_FMT_RPS));
    size_t interrupted = 0;
    for (size_t k = 0; k < in->run_count; k++)
        interrupted += in->runs[k].interrupted != 0;
    if (interrupted > 0)
        flag(flags, failed, "interrupted runs: %zu", interrupted);
    if (in->failed > 0)
        flag(flags, failed, "failed runs: %zu", in->failed);
    if (in->skipped > 0)
        flag(flags, failed, "skipped runs: %zu (%s)", in->skipped,
             in->skip_reason ? in->skip_reason : "no reason given");
    if (in->run_count + in->failed + in->skipped == 0)
        flag(flags, failed, "no point of the plan runs it");
    return flags;
}

/* The median over the repeats of each percentile, for the latency chart. */
static json_t *row_percentiles(const lr_row_in_t *in, int *failed)
{
    json_t *o = json_object();
    double *v = in->run_count ? malloc(in->run_count * sizeof *v) : NULL;
    if (in->run_count && v == NULL)
        *failed = 1;
    for (int p = 0; p < LR_PCT_COUNT && v != NULL; p++) {
        for (size_t k = 0; k < in->run_count; k++)
            v[k] = in->runs[k].pct_ms[p];
        lr_stat_t s;
        if (lr_stat_of(v, in->run_count, &s) < 0)
            *failed = 1;
        lr_jset(o, lr_pct_keys[p], lr_jnum(s.n ? s.median : NAN, 3), failed);
    }
    free(v);
    return o;
}

/* Add n to o[key] (a new key starts at 0). */
static void add_count(json_t *o, const char *key, json_int_t n, int *failed)
{
    json_t *v = json_object_get(o, key);
    lr_jset(o, key, json_integer((json_is_integer(v) ? json_integer_value(v) : 0) + n), failed);
}

/* The failures by kind, summed over the repeats (every run's buckets:
 * HTTP or gRPC statuses, timeouts, connection errors, unfinished), and
 * the /healthz probe of runs with slow clients: its p99's median and its
 * failed probes. */
static json_t *row_failure_kinds(const lr_row_in_t *in, int *failed)
{
    static const char *const kinds[] = {"connect", "read", "write", "parse"};
    json_t *o = json_object(), *http = json_object();
    double *p99 = in->run_count ? malloc(in->run_count * sizeof *p99) : NULL;
    size_t probed = 0;
    json_int_t probes = 0, probes_failed = 0;
    /* Every count, 0 for a row without a run done (skipped or failed). */
    static const char *const counts[] = {"issued", "timeouts", "connect", "read",
                                         "write", "parse", "unfinished"};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        add_count(o, counts[c], 0, failed);
    for (size_t k = 0; k < in->run_count; k++) {
        const json_t *s = json_object_get(in->runs[k].json, "summary");
        const char *code;
        const json_t *n;
        json_object_foreach((json_t *)json_object_get(s, "http_errors"), code, n)
            add_count(http, code, json_integer_value(n), failed);
        add_count(o, "issued", json_integer_value(json_object_get(s, "issued")), failed);
        add_count(o, "timeouts", json_integer_value(json_object_get(s, "timeouts")), failed);
        for (size_t e = 0; e < sizeof kinds / sizeof kinds[0]; e++)
            add_count(o, kinds[e],
                      json_integer_value(json_object_get(json_object_get(s, "errors"), kinds[e])),
                      failed);
        add_count(o, "unfinished", json_integer_value(json_object_get(s, "unfinished")), failed);
        const json_t *probe =
            json_object_get(json_object_get(in->runs[k].json, "slow_clients"), "healthz_probe");
        if (json_is_object(probe) && p99 != NULL) {
            p99[probed++] = lr_jnum_get(probe, "p99_ms");
            probes += json_integer_value(json_object_get(probe, "probes"));
            probes_failed += json_integer_value(json_object_get(probe, "failed"));
        }
    }
    lr_jset(o, "http", http, failed);
    const json_t *cfg = in->run_count ? json_object_get(in->runs[0].json, "config") : NULL;
    const char *protocol = lr_jstr_get(cfg, "protocol");
    lr_jset(o, "protocol", json_string(protocol ? protocol : "http"), failed);
    lr_stat_t s = {NAN, NAN, NAN, 0};
    if (probed > 0 && lr_stat_of(p99, probed, &s) < 0)
        *failed = 1;
    lr_jset(o, "healthz_p99_ms", lr_jnum(probed ? s.median : NAN, 3), failed);
    lr_jset(o, "healthz_probes", probed ? json_integer(probes) : json_null(), failed);
    lr_jset(o, "healthz_failed", probed ? json_integer(probes_failed) : json_null(), failed);
    free(p99);
    return o;
}

static json_t *row_reports(const lr_row_in_t *in, int *failed)
{
    json_t *a = json_array();
    for (size_t k = 0; k < in->run_count; k++)
        lr_jappend(a, json_string(in->runs[k].name), failed);
    return a;
}

json_t *lr_row_json(const lr_row_in_t *in)
{
    int failed = 0;
    lr_stat_t stats[STAT_COUNT];
    for (size_t i = 0; i < STAT_COUNT; i++)
        stats[i] = metric_stat(in, i, &failed);
    json_t *row = json_object();
    lr_jset(row, "variant", json_string(in->variant), &failed);
    lr_jset(row, "model", lr_jstr(in->model), &failed);
    lr_jset(row, "classic", lr_jstr(in->classic), &failed);
    lr_jset(row, "impl", lr_jstr(in->impl), &failed);
    lr_jset(row, "concurrency", json_integer(in->concurrency), &failed);
    lr_jset(row, "runs", json_integer((json_int_t)in->run_count), &failed);
    const lr_stat_t *ceiling = &stats[STAT_CEILING];
    lr_jset(row, "ceiling_rps", lr_jnum(ceiling->n ? ceiling->median : NAN, 3), &failed);
    for (size_t i = 0; i < LR_METRIC_COUNT; i++)
        lr_jset(row, lr_metrics[i].key, lr_stat_json(&stats[i], lr_metrics[i].decimals),
                &failed);
    lr_jset(row, "percentiles_ms", row_percentiles(in, &failed), &failed);
    lr_jset(row, "failures_by_kind", row_failure_kinds(in, &failed), &failed);
    lr_jset(row, "flags", row_flags(in, stats, &failed), &failed);
    lr_jset(row, "published", in->published ? json_deep_copy(in->published) : json_array(),
            &failed);
    lr_jset(row, "reports", row_reports(in, &failed), &failed);
    if (failed) {
        json_decref(row);
        return NULL;
    }
    return row;
}
