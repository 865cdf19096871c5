#include "compare.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "format.h"
#include "jsonutil.h"
#include "open_row.h"
#include "labreport.h"
#include "load.h"
#include "matrix.h"
#include "row.h"

typedef struct metric {
    const char *key; /* the row's */
    const char *label;
    int higher_is_better;
    double noise_pct;
    enum lr_fmt fmt;
} metric_t;

static const metric_t metrics[] = {
    {"rps", "rps", 1, LR_NOISE_RPS_PCT, LR_FMT_RPS},
    {"mean_ms", "mean ms", 0, LR_NOISE_LATENCY_PCT, LR_FMT_MS},
    {"p50_ms", "p50 ms", 0, LR_NOISE_LATENCY_PCT, LR_FMT_MS},
    {"p99_ms", "p99 ms", 0, LR_NOISE_LATENCY_PCT, LR_FMT_MS},
    {"failures", "failures", 0, LR_NOISE_FAILURES_PCT, LR_FMT_COUNT},
    {"server_cpu_ms_per_request", "server CPU ms/req", 0, LR_NOISE_CPU_PCT, LR_FMT_CPU_MS},
};
#define METRIC_COUNT (sizeof metrics / sizeof metrics[0])

static const char *const verdict_text[] = {
    [LR_VERDICT_NA] = "n/a",
    [LR_VERDICT_NOISE] = "within noise",
    [LR_VERDICT_BETTER] = "changed (better)",
    [LR_VERDICT_WORSE] = "changed (worse)",
};

enum lr_verdict lr_compare_verdict(const lr_stat_t *a, const lr_stat_t *b, int higher_is_better,
                                   double noise_pct)
{
    if (a->n == 0 || b->n == 0 || !isfinite(a->median) || !isfinite(b->median))
        return LR_VERDICT_NA;
    double delta = b->median - a->median;
    int beyond = a->median == 0 ? delta != 0
                                : fabs(delta) > noise_pct / 100.0 * fabs(a->median);
    if (a->n > 1 && b->n > 1) {
        double spread = fmax(a->max - a->min, b->max - b->min);
        beyond = beyond && fabs(delta) > spread;
    }
    if (!beyond)
        return LR_VERDICT_NOISE;
    return (higher_is_better ? delta > 0 : delta < 0) ? LR_VERDICT_BETTER : LR_VERDICT_WORSE;
}

/* The settings a comparison should share, as a matrix report names them
 * (concurrency is each row's own), from a run report's config and server. */
static const char *const setting_keys[] = {
    "duration_s", "requests", "fanout", "delay_s", "timeout_s", "warmup_s", "upstream_http",
};
#define SETTING_COUNT (sizeof setting_keys / sizeof setting_keys[0])

static json_t *run_settings(const json_t *report)
{
    const json_t *config = json_object_get(report, "config");
    json_t *settings = json_object();
    int failed = 0;
    for (size_t i = 0; i + 1 < SETTING_COUNT; i++) {
        const json_t *v = json_object_get(config, setting_keys[i]);
        if (v != NULL)
            lr_jset(settings, setting_keys[i], json_deep_copy(v), &failed);
    }
    /* The transport to slowapi is the server's (schema 3 servers say it). */
    const json_t *http = json_object_get(json_object_get(report, "server"), "upstream_http");
    if (json_is_string(http))
        lr_jset(settings, "upstream_http", json_deep_copy(http), &failed);
    if (failed) {
        json_decref(settings);
        return NULL;
    }
    return settings;
}

/* Two settings' values are the same: numbers by value (30 and 30.0). */
static int same_value(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal(a, b);
}

/* "Settings that differ": a comparison across settings compares them too,
 * and the reader should know (a warm-up hides the cold start, Docker adds
 * the bridge's cost). A setting one side does not record is not shown. */
static void print_settings_diff(FILE *out, const json_t *sa, const json_t *sb)
{
    int any = 0;
    const json_t *ma = json_object_get(sa, "mode"), *mb = json_object_get(sb, "mode");
    if (ma && mb && !same_value(ma, mb)) {
        fprintf(out, "Settings that differ (A / B): mode %s / %s", json_string_value(ma),
                json_string_value(mb));
        any = 1;
    }
    const json_t *seta = json_object_get(sa, "settings"), *setb = json_object_get(sb, "settings");
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const json_t *a = json_object_get(seta, setting_keys[i]);
        const json_t *b = json_object_get(setb, setting_keys[i]);
        if (a == NULL || b == NULL || same_value(a, b))
            continue;
        char *ta = json_dumps(a, JSON_ENCODE_ANY), *tb = json_dumps(b, JSON_ENCODE_ANY);
        fprintf(out, "%s%s %s / %s", any ? "; " : "Settings that differ (A / B): ",
                setting_keys[i], ta ? ta : "?", tb ? tb : "?");
        free(ta);
        free(tb);
        any = 1;
    }
    if (any)
        fprintf(out, ".\n\n");
}

/* One side, as {"workload": W, "mode": M, "settings": {...}, "rows":
 * [...]}: a matrix report as it is, a run report as a row of one run.
 * NULL with the reason in err. */
static json_t *load_side(const char *path, char *err, size_t err_len)
{
    char file[PATH_MAX];
    if (lr_is_dir(path)) {
        if (lr_path_join(file, sizeof file, path, LR_MATRIX_FILE) < 0) {
            snprintf(err, err_len, "%s: path too long", path);
            return NULL;
        }
        if (!lr_is_file(file)) {
            snprintf(err, err_len, "%s: no %s (`labreport matrix %s` makes it)", path,
                     LR_MATRIX_FILE, path);
            return NULL;
        }
    } else {
        snprintf(file, sizeof file, "%s", path);
    }
    json_t *json = lr_json_load(file, err, err_len);
    if (json == NULL)
        return NULL;
    if (lr_jstr_get(json, "kind") != NULL) {
        if (lr_matrix_check(json, file, err, err_len) == 0)
            return json;
        json_decref(json);
        return NULL;
    }
    json_decref(json);
    lr_run_t run;
    if (lr_run_load(file, &run, err, err_len) < 0)
        return NULL;
    lr_row_in_t in = {.variant = run.variant,
                      .model = lr_jstr_get(json_object_get(run.json, "server"), "model"),
                      .concurrency = run.concurrency,
                      .runs = &run,
                      .run_count = 1};
    int failed = 0;
    json_t *side = json_object(), *rows = json_array();
    lr_jset(side, "workload", json_string(run.workload), &failed);
    lr_jset(side, "mode", json_string(run.mode), &failed);
    lr_jset(side, "settings", run_settings(run.json), &failed);
    lr_jset(side, "single_run", json_true(), &failed);
    lr_jappend(rows, lr_row_json(&in), &failed);
    lr_jset(side, "rows", rows, &failed);
    lr_run_free(&run);
    if (failed) {
        json_decref(side);
        snprintf(err, err_len, "%s: out of memory", path);
        return NULL;
    }
    return side;
}

static int same_row(const json_t *a, const json_t *b)
{
    const char *va = lr_jstr_get(a, "variant"), *vb = lr_jstr_get(b, "variant");
    return va && vb && strcmp(va, vb) == 0 && lr_same_point(a, b);
}

static const json_t *find_row(const json_t *side, const json_t *row)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(side, "rows"), i, r) {
        if (same_row(r, row))
            return r;
    }
    return NULL;
}

static lr_stat_t row_stat(const json_t *row, const char *key)
{
    lr_stat_t s = lr_stat_from_json(json_object_get(row, key));
    const json_t *runs = json_object_get(row, "runs");
    if (s.n > 0)
        s.n = json_is_integer(runs) && json_integer_value(runs) > 1
                  ? (size_t)json_integer_value(runs) : 1;
    return s;
}

static void print_stat(FILE *out, const lr_stat_t *s, enum lr_fmt fmt)
{
    char m[LR_FMT_MAX], lo[LR_FMT_MAX], hi[LR_FMT_MAX];
    fprintf(out, " %s", lr_fmt(m, s->median, fmt));
    if (s->n > 1)
        fprintf(out, " (%s–%s)", lr_fmt(lo, s->min, fmt), lr_fmt(hi, s->max, fmt));
    fprintf(out, " |");
}

static void print_delta(FILE *out, const lr_stat_t *a, const lr_stat_t *b)
{
    if (a->n == 0 || b->n == 0 || !isfinite(a->median) || !isfinite(b->median))
        fprintf(out, " %s |", LR_MISSING);
    else if (a->median == 0)
        fprintf(out, " %s |", b->median == 0 ? "0.0%" : "from 0");
    else
        fprintf(out, " %+.1f%% |", (b->median - a->median) / fabs(a->median) * 100.0);
}

/* "`event-loop`, io, c=100, 3 runs" */
static void print_row_name(FILE *out, const json_t *row, const char *workload)
{
    const char *variant = lr_jstr_get(row, "variant");
    double runs = lr_jnum_get(row, "runs");
    char c[LR_FMT_MAX], n[LR_FMT_MAX];
    fprintf(out, "`%s`, %s, c=%s, %s run%s", variant ? variant : "?", workload ? workload : "?",
            lr_fmt(c, lr_jnum_get(row, "concurrency"), LR_FMT_COUNT),
            lr_fmt(n, runs, LR_FMT_COUNT), runs == 1 ? "" : "s");
}

/* One pair's table; counts the worse and better verdicts. */
static void compare_row(FILE *out, const json_t *sa, const json_t *ra, const json_t *sb,
                        const json_t *rb, const lr_compare_opts_t *opts, int *worse, int *better)
{
    fprintf(out, "## A: ");
    print_row_name(out, ra, lr_jstr_get(sa, "workload"));
    fprintf(out, "; B: ");
    print_row_name(out, rb, lr_jstr_get(sb, "workload"));
    fprintf(out, "\n\n");
    fprintf(out, "| metric | A | B | delta %% | verdict |\n|---|---:|---:|---:|---|\n");
    for (size_t i = 0; i < METRIC_COUNT; i++) {
        const metric_t *m = &metrics[i];
        lr_stat_t a = row_stat(ra, m->key), b = row_stat(rb, m->key);
        double noise = isnan(opts->noise_pct) ? m->noise_pct : opts->noise_pct;
        enum lr_verdict v = lr_compare_verdict(&a, &b, m->higher_is_better, noise);
        *worse += v == LR_VERDICT_WORSE;
        *better += v == LR_VERDICT_BETTER;
        fprintf(out, "| %s |", m->label);
        print_stat(out, &a, m->fmt);
        print_stat(out, &b, m->fmt);
        print_delta(out, &a, &b);
        fprintf(out, " %s |\n", verdict_text[v]);
    }
    fprintf(out, "\n");
}

/* The rows of `side` that the other side lacks. */
static void print_unmatched(FILE *out, const char *label, const json_t *side,
                            const json_t *other, int same_workload)
{
    int any = 0;
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(side, "rows"), i, r) {
        if (same_workload && find_row(other, r) != NULL)
            continue;
        const char *variant = lr_jstr_get(r, "variant");
        char c[LR_FMT_MAX];
        fprintf(out, "%s `%s` c=%s", any ? "," : label, variant ? variant : "?",
                lr_fmt(c, lr_jnum_get(r, "concurrency"), LR_FMT_COUNT));
        any = 1;
    }
    if (any)
        fprintf(out, "\n\n");
}

static void print_intro(FILE *out, const char *a, const char *b, const lr_compare_opts_t *o)
{
    fprintf(out, "# Comparison\n\nA: `%s`; B: `%s`; delta %% = (B - A) / A.\n\n", a, b);
    fprintf(out, "A metric \"changed\" when B's median differs from A's by more than ");
    if (isnan(o->noise_pct))
        fprintf(out, "the noise threshold (rps %g%%, latencies %g%%, failures %g%%, CPU "
                     "%g%%)", LR_NOISE_RPS_PCT, LR_NOISE_LATENCY_PCT, LR_NOISE_FAILURES_PCT,
                LR_NOISE_CPU_PCT);
    else
        fprintf(out, "%g%% (--noise)", o->noise_pct);
    fprintf(out, " and, when both sides have repeats, by more than the larger of their "
                 "min–max spreads; else it is \"within noise\".\n\n");
}

int lr_compare(const char *a, const char *b, const lr_compare_opts_t *opts, FILE *out,
               char *err, size_t err_len)
{
    json_t *sa = load_side(a, err, err_len);
    json_t *sb = sa ? load_side(b, err, err_len) : NULL;
    if (sb == NULL) {
        json_decref(sa);
        return LR_EXIT_USAGE;
    }
    const char *wa = lr_jstr_get(sa, "workload"), *wb = lr_jstr_get(sb, "workload");
    int same_workload = wa && wb && strcmp(wa, wb) == 0;
    int matched = 0, worse = 0, better = 0;
    print_intro(out, a, b, opts);
    print_settings_diff(out, sa, sb);
    /* Two run reports named on the command line are compared as they
     * are, whatever their variants: that is what was asked for. */
    int two_runs = json_is_true(json_object_get(sa, "single_run")) &&
                   json_is_true(json_object_get(sb, "single_run"));
    size_t i;
    const json_t *ra;
    json_array_foreach(json_object_get(sa, "rows"), i, ra) {
        const json_t *rb = two_runs        ? json_array_get(json_object_get(sb, "rows"), 0)
                           : same_workload ? find_row(sb, ra)
                                           : NULL;
        if (rb == NULL)
            continue;
        compare_row(out, sa, ra, sb, rb, opts, &worse, &better);
        matched++;
    }
    if (!two_runs) {
        print_unmatched(out, "Only in A:", sa, sb, same_workload);
        print_unmatched(out, "Only in B:", sb, sa, same_workload);
    }
    int status = LR_EXIT_OK;
    if (matched == 0) {
        snprintf(err, err_len, "nothing to compare: no (variant, workload, concurrency) of %s "
                 "is in %s", a, b);
        status = LR_EXIT_USAGE;
    } else {
        fprintf(out, "%d metric(s) changed for the worse, %d for the better.\n", worse, better);
        if (worse > 0 && opts->fail_on_regression)
            status = LR_EXIT_FAIL;
    }
    json_decref(sa);
    json_decref(sb);
    return status;
}
