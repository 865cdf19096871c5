#include "markdown.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charts.h"
#include "format.h"
#include "jsonutil.h"
#include "matrix.h"
#include "failures_md.h"
#include "pairs_md.h"
#include "rate_md.h"
#include "stats.h"

/* The plan's settings: these first, in this order, with their units; any
 * other key after them as it is. */
static const struct {
    const char *key;
    const char *label;
    const char *unit;
} settings_rows[] = {
    {"concurrency", "concurrency", ""},
    {"duration_s", "duration", " s"},
    {"requests", "requests", ""},
    {"warmup_s", "warm-up", " s"},
    {"ramp_s", "clients started over", " s"}, /* --ramp: only when given */
    {"fanout", "fan-out", ""},
    {"delay_s", "delay", " s"},
    {"timeout_s", "timeout", " s"},
    {"upstream_http", "upstream HTTP", ""},
    {"upstream_timeout_s", "upstream timeout", " s"},
    /* The open loop's (run.sh --rate, --step, --sweep rate=) and the
     * checks: in a plan only when given. */
    {"rate", "rate (requests/s)", ""},
    {"step_s", "rate step", " s"},
    {"check", "checks", ""},
    {"samples", "samples kept", ""},
    {"faults", "injected faults (slowapi)", ""},
    {"fault_seed", "their seed", ""},
    {"slow_clients", "slow clients beside the load", ""},
    {"kill_worker_every_s", "a worker killed every", " s"},
};
#define SETTINGS_ROW_COUNT (sizeof settings_rows / sizeof settings_rows[0])

/* A JSON value as a settings cell. */
static void value_cell(lr_buf_t *b, const json_t *v, const char *unit)
{
    char num[LR_FMT_MAX];
    if (v == NULL || json_is_null(v)) {
        lr_buf_puts(b, LR_MISSING);
    } else if (json_is_number(v)) {
        lr_buf_printf(b, "%s%s", lr_fmt(num, json_number_value(v), LR_FMT_PLAIN), unit);
    } else if (json_is_string(v)) {
        lr_buf_cell(b, json_string_value(v));
        lr_buf_puts(b, unit);
    } else if (json_is_boolean(v)) {
        lr_buf_puts(b, json_is_true(v) ? "yes" : "no");
    } else {
        char *text = json_dumps(v, JSON_COMPACT);
        lr_buf_cell(b, text ? text : "?");
        free(text);
    }
}

static int is_listed_setting(const char *key)
{
    for (size_t i = 0; i < SETTINGS_ROW_COUNT; i++)
        if (strcmp(settings_rows[i].key, key) == 0)
            return 1;
    return 0;
}

/* The sweep's values of a setting ("concurrency" or "rate"), or NULL. */
static const json_t *swept(const json_t *report, const char *key)
{
    const json_t *values = json_object_get(json_object_get(report, "sweep"), key);
    return json_is_array(values) ? values : NULL;
}

static void md_settings(lr_buf_t *b, const json_t *report)
{
    const json_t *settings = json_object_get(report, "settings");
    lr_buf_puts(b, "## Settings\n\n| setting | value |\n|---|---|\n");
    for (size_t i = 0; i < SETTINGS_ROW_COUNT; i++) {
        const json_t *v = json_object_get(settings, settings_rows[i].key);
        const json_t *sweep = swept(report, settings_rows[i].key);
        if (v == NULL && sweep == NULL)
            continue;
        lr_buf_printf(b, "| %s | ", settings_rows[i].label);
        if (sweep != NULL) {
            size_t k;
            const json_t *c;
            json_array_foreach(sweep, k, c) {
                lr_buf_puts(b, k ? ", " : "");
                value_cell(b, c, "");
            }
            lr_buf_puts(b, " (sweep)");
        } else {
            value_cell(b, v, settings_rows[i].unit);
        }
        lr_buf_puts(b, " |\n");
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)settings, key, v) {
        if (is_listed_setting(key))
            continue;
        lr_buf_puts(b, "| ");
        lr_buf_cell(b, key);
        lr_buf_puts(b, " | ");
        value_cell(b, v, "");
        lr_buf_puts(b, " |\n");
    }
    lr_buf_puts(b, "| repeats | ");
    value_cell(b, json_object_get(report, "repeat"), "");
    lr_buf_puts(b, " |\n\n");
}

static lr_stat_t stat_of(const json_t *row, const char *key)
{
    return lr_stat_from_json(json_object_get(row, key));
}

static long runs_of(const json_t *row)
{
    const json_t *n = json_object_get(row, "runs");
    return json_is_integer(n) ? (long)json_integer_value(n) : 0;
}

/* One numeric cell: the median of key. */
static void num_cell(lr_buf_t *b, const json_t *row, const char *key, enum lr_fmt kind)
{
    char num[LR_FMT_MAX];
    lr_buf_printf(b, " %s |", lr_fmt(num, stat_of(row, key).median, kind));
}

/* The rps cell: median, and min-max when the row has repeats. */
static void rps_cell(lr_buf_t *b, const json_t *row)
{
    char m[LR_FMT_MAX], lo[LR_FMT_MAX], hi[LR_FMT_MAX];
    lr_stat_t s = stat_of(row, "rps");
    if (runs_of(row) == 0) {
        lr_buf_puts(b, " no run |");
        return;
    }
    lr_buf_printf(b, " %s", lr_fmt(m, s.median, LR_FMT_RPS));
    if (runs_of(row) > 1)
        lr_buf_printf(b, " (%s–%s)", lr_fmt(lo, s.min, LR_FMT_RPS),
                      lr_fmt(hi, s.max, LR_FMT_RPS));
    lr_buf_puts(b, " |");
}

/* The classic study's rps for the deployment(s) mirrored, "25.2 / 28.5". */
static void published_cell(lr_buf_t *b, const json_t *row)
{
    const json_t *published = json_object_get(row, "published");
    char num[LR_FMT_MAX];
    size_t i;
    const json_t *p;
    lr_buf_puts(b, " ");
    if (json_array_size(published) == 0)
        lr_buf_puts(b, LR_MISSING);
    json_array_foreach(published, i, p)
        lr_buf_printf(b, "%s%s", i ? " / " : "", lr_fmt(num, lr_jnum_get(p, "rps"), LR_FMT_RPS));
    lr_buf_puts(b, " |");
}

static void text_cell(lr_buf_t *b, const char *s)
{
    lr_buf_puts(b, " ");
    lr_buf_cell(b, s ? s : LR_MISSING);
    lr_buf_puts(b, " |");
}

/* busy: the row has the server's CPU busy share (schema 2 and later);
 * rates: the rows have offered rates (open loops at a constant rate). */
static void md_row(lr_buf_t *b, const json_t *row, int sweep, int busy, int rates)
{
    char num[LR_FMT_MAX];
    /* A flagged row says so where it is read: loadgen or slowapi busy, the
     * calls off the contract, failed runs (the Flags section says which). */
    lr_buf_printf(b, "| `%s`%s |", lr_jstr_get(row, "variant") ? lr_jstr_get(row, "variant") : "?",
                  json_array_size(json_object_get(row, "flags")) > 0 ? " **flagged**" : "");
    text_cell(b, lr_jstr_get(row, "model"));
    text_cell(b, lr_jstr_get(row, "classic"));
    if (sweep)
        lr_buf_printf(b, " %s |", lr_fmt(num, lr_jnum_get(row, "concurrency"), LR_FMT_COUNT));
    if (rates)
        lr_buf_printf(b, " %s |", lr_fmt(num, lr_jnum_get(row, "rate"), LR_FMT_PLAIN));
    lr_buf_printf(b, " %s |", lr_fmt(num, lr_jnum_get(row, "ceiling_rps"), LR_FMT_RPS));
    rps_cell(b, row);
    num_cell(b, row, "rps_error", LR_FMT_RPS);
    num_cell(b, row, "of_ceiling", LR_FMT_RATIO);
    num_cell(b, row, "mean_ms", LR_FMT_MS);
    num_cell(b, row, "p50_ms", LR_FMT_MS);
    num_cell(b, row, "p90_ms", LR_FMT_MS);
    num_cell(b, row, "p99_ms", LR_FMT_MS);
    num_cell(b, row, "max_ms", LR_FMT_MS);
    num_cell(b, row, "failures", LR_FMT_COUNT);
    num_cell(b, row, "server_cpu_s", LR_FMT_SECONDS);
    num_cell(b, row, "server_cpu_ms_per_request", LR_FMT_CPU_MS);
    if (busy)
        lr_markdown_busy_cell(b, stat_of(row, "server_busy").median);
    num_cell(b, row, "server_peak_mib", LR_FMT_MIB);
    num_cell(b, row, "calls_per_answer", LR_FMT_CALLS);
    published_cell(b, row);
    lr_buf_puts(b, "\n");
}

static void md_table(lr_buf_t *b, const json_t *report)
{
    int sweep = lr_report_is_sweep(report), busy = lr_matrix_schema(report) >= 2;
    int rates = !isnan(lr_report_headline_rate(report));
    lr_buf_puts(b, "## Results\n\n"
                   "Each figure is the median over a point's repeats; rps also shows min–max "
                   "when there was more than one. rps is loadgen's headline (schema 3: the "
                   "served share, which cannot exceed the ceiling), ± its stated error; "
                   "of ceiling = rps / ceiling. Latencies in ms. failures = HTTP errors + "
                   "timeouts + connection errors. CPU s, CPU ms/req and peak MiB are the "
                   "server's (run.sh's .server.json; ms/req over every request it answered, "
                   "warm-up included). ");
    if (busy)
        lr_buf_puts(b, "server CPU %: the server's CPU time over its share of the machine "
                       "while loadgen ran, cpu_seconds / (loadgen's wall_seconds \xc3\x97 "
                       "CPUs) of its .server.json; **CPU-bound** at 75% or more: its CPU, not "
                       "its concurrency model, set its rate. ");
    if (rates)
        lr_buf_puts(b, "rate: the offered rate of an open loop (requests/s, sent on schedule "
                       "whatever the answers; c is then the connection limit); its ceiling is "
                       "min(rate, the closed loop's at c), and its latencies count from each "
                       "request's planned send. ");
    lr_buf_puts(b, "calls/answer: slowapi's count of upstream calls per "
                   "answered request. classic rps: what the classic study published for the "
                   "deployment mirrored. **flagged**: the Flags section below says why "
                   "(a row whose loadgen or slowapi was 90% busy or more did not measure the "
                   "server).\n\n");
    lr_buf_printf(b, "| variant | model | mirrors |%s%s ceiling | rps | ± | of ceiling | mean | "
                     "p50 | p90 | p99 | max | failures | CPU s | CPU ms/req |%s peak MiB | "
                     "calls/answer | classic rps |\n",
                  sweep ? " c |" : "", rates ? " rate |" : "", busy ? " server CPU % |" : "");
    lr_buf_printf(b, "|---|---|---|%s%s---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
                     "---:|%s---:|---:|---:|\n",
                  sweep ? "---:|" : "", rates ? "---:|" : "", busy ? "---:|" : "");
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row)
        md_row(b, row, sweep, busy, rates);
    lr_buf_puts(b, "\n");
}

static void md_flags(lr_buf_t *b, const json_t *report)
{
    int sweep = lr_report_is_sweep(report), rate_sweep = lr_report_is_rate_sweep(report);
    int any = 0;
    lr_buf_puts(b, "## Flags\n\n");
    size_t i, k;
    const json_t *row, *f;
    json_array_foreach(json_object_get(report, "rows"), i, row) {
        json_array_foreach(json_object_get(row, "flags"), k, f) {
            if (!json_is_string(f))
                continue;
            lr_buf_printf(b, "- `%s`", lr_jstr_get(row, "variant") ? lr_jstr_get(row, "variant")
                                                                     : "?");
            if (sweep) {
                char c[LR_FMT_MAX];
                lr_buf_printf(b, " at c=%s", lr_fmt(c, lr_jnum_get(row, "concurrency"),
                                                    LR_FMT_COUNT));
            }
            if (rate_sweep) {
                char r[LR_FMT_MAX];
                lr_buf_printf(b, " at rate %s", lr_fmt(r, lr_jnum_get(row, "rate"),
                                                       LR_FMT_PLAIN));
            }
            lr_buf_printf(b, ": %s\n", json_string_value(f));
            any = 1;
        }
    }
    lr_buf_puts(b, any ? "\n" : "None: no helper was busy, every verified run made the "
                                "expected upstream calls, and no point failed or was "
                                "skipped.\n\n");
}

/* rates: the points have a rate column. */
static void point_row(lr_buf_t *b, const json_t *p, const char *status, int rates)
{
    char num[LR_FMT_MAX];
    lr_buf_printf(b, "| %s |", lr_fmt(num, lr_jnum_get(p, "index"), LR_FMT_COUNT));
    text_cell(b, lr_jstr_get(p, "variant"));
    lr_buf_printf(b, " %s |", lr_fmt(num, lr_jnum_get(p, "concurrency"), LR_FMT_COUNT));
    if (rates)
        lr_buf_printf(b, " %s |", lr_fmt(num, lr_jnum_get(p, "rate"), LR_FMT_PLAIN));
    lr_buf_printf(b, " %s | %s |", lr_fmt(num, lr_jnum_get(p, "repeat"), LR_FMT_COUNT), status);
    text_cell(b, lr_jstr_get(p, "reason"));
    lr_buf_puts(b, "\n");
}

/* A point's index for ordering; one without an index goes last. */
static double point_index(const json_t *p)
{
    double i = lr_jnum_get(p, "index");
    return isfinite(i) ? i : INFINITY;
}

static void md_points(lr_buf_t *b, const json_t *report)
{
    const json_t *skipped = json_object_get(report, "skipped");
    const json_t *failed = json_object_get(report, "failed");
    lr_buf_puts(b, "## Skipped and failed points\n\n");
    if (json_array_size(skipped) + json_array_size(failed) == 0) {
        lr_buf_puts(b, "None.\n\n");
        return;
    }
    int rates = !isnan(lr_report_headline_rate(report));
    lr_buf_printf(b, "| point | variant | c |%s repeat | status | reason |\n"
                     "|---:|---|---:|%s---:|---|---|\n", rates ? " rate |" : "",
                  rates ? "---:|" : "");
    /* Both lists are in plan order; merged, the table is too. */
    size_t i = 0, k = 0, ns = json_array_size(skipped), nf = json_array_size(failed);
    while (i < ns || k < nf) {
        const json_t *s = json_array_get(skipped, i), *f = json_array_get(failed, k);
        if (k >= nf || (i < ns && point_index(s) <= point_index(f))) {
            point_row(b, s, "skipped", rates);
            i++;
        } else {
            point_row(b, f, "failed", rates);
            k++;
        }
    }
    lr_buf_puts(b, "\n");
}

static void md_overhead(lr_buf_t *b, const json_t *report)
{
    const json_t *o = json_object_get(report, "overhead_s");
    char mean[LR_FMT_MAX], max[LR_FMT_MAX];
    lr_buf_puts(b, "## Overhead\n\n"
                   "The lab's time per run beyond the warm-up and the measured window "
                   "(start-up, the wait for health, the drain, tear-down): ");
    double runs = lr_jnum_get(o, "runs");
    if (!(runs > 0))
        lr_buf_puts(b, "not known (no run's point recorded its elapsed time).\n\n");
    else
        lr_buf_printf(b, "mean %s s, max %s s over %.0f runs.\n\n",
                      lr_fmt(mean, lr_jnum_get(o, "mean"), LR_FMT_SECONDS),
                      lr_fmt(max, lr_jnum_get(o, "max"), LR_FMT_SECONDS), runs);
}

static void md_charts(lr_buf_t *b, const json_t *report)
{
    lr_chart_t charts[LR_CHART_MAX];
    size_t n = lr_charts_of(report, charts);
    if (n == 0)
        return;
    lr_buf_puts(b, "## Charts\n\n");
    if (lr_report_is_rate_sweep(report))
        lr_buf_printf(b, "The per-variant charts show c=%ld at rate %g/s.\n\n",
                      lr_report_headline_c(report), lr_report_headline_rate(report));
    else if (lr_report_is_sweep(report))
        lr_buf_printf(b, "The per-variant charts show c=%ld.\n\n", lr_report_headline_c(report));
    for (size_t i = 0; i < n; i++)
        lr_buf_printf(b, "![%s](%s)\n\n", charts[i].alt, charts[i].file);
}

/* Each variant's published rows once, in the rows' order. */
static void md_published(lr_buf_t *b, const json_t *report)
{
    const json_t *rows = json_object_get(report, "rows");
    char rps[LR_FMT_MAX], mean[LR_FMT_MAX], fails[LR_FMT_MAX];
    int any = 0;
    size_t i, k;
    const json_t *row, *p;
    json_array_foreach(rows, i, row) {
        const char *variant = lr_jstr_get(row, "variant");
        int seen = variant == NULL;
        for (size_t j = 0; j < i && !seen; j++) {
            const char *v = lr_jstr_get(json_array_get(rows, j), "variant");
            seen = v != NULL && strcmp(v, variant) == 0;
        }
        if (seen)
            continue;
        json_array_foreach(json_object_get(row, "published"), k, p) {
            if (!any) {
                lr_buf_puts(b, "## The classic study\n\n");
                if (lr_jstr_get(report, "published_source")) {
                    lr_buf_puts(b, "Source: ");
                    lr_buf_puts(b, lr_jstr_get(report, "published_source"));
                    lr_buf_puts(b, ".\n\n");
                }
                lr_buf_puts(b, "| variant | deployment | config | rps | mean ms | failures |\n"
                               "|---|---|---|---:|---:|---:|\n");
                any = 1;
            }
            lr_buf_printf(b, "| `%s` |", variant);
            text_cell(b, lr_jstr_get(p, "alias"));
            text_cell(b, lr_jstr_get(p, "config"));
            lr_buf_printf(b, " %s | %s | %s |\n", lr_fmt(rps, lr_jnum_get(p, "rps"), LR_FMT_RPS),
                          lr_fmt(mean, lr_jnum_get(p, "mean_ms"), LR_FMT_MS),
                          lr_fmt(fails, lr_jnum_get(p, "failures"), LR_FMT_COUNT));
        }
    }
    if (any)
        lr_buf_puts(b, "\n");
}

static void md_title(lr_buf_t *b, const json_t *report)
{
    const char *workload = lr_jstr_get(report, "workload");
    const char *mode = lr_jstr_get(report, "mode");
    size_t done = 0, i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row)
        done += (size_t)runs_of(row);
    size_t skipped = json_array_size(json_object_get(report, "skipped"));
    size_t failed = json_array_size(json_object_get(report, "failed"));
    /* Docker's network when the report has it (bridge or host). */
    const char *network = lr_jstr_get(report, "network");
    int docker_network = mode != NULL && network != NULL && strcmp(mode, "docker") == 0;
    lr_buf_printf(b, "# Matrix: %s workload (%s%s%s)\n\n", workload ? workload : "?",
                  mode ? mode : "mode unknown", docker_network ? ", network " : "",
                  docker_network ? network : "");
    const char *command = lr_jstr_get(report, "command");
    const char *created = lr_jstr_get(report, "created_at");
    if (command != NULL)
        lr_buf_printf(b, "`%s`, ", command);
    lr_buf_printf(b, "planned %s: %zu runs done, %zu failed, %zu skipped.\n\n",
                  created ? created : "at an unknown time", done, failed, skipped);
}

char *lr_markdown_matrix(const json_t *report)
{
    lr_buf_t b = LR_BUF_INIT;
    md_title(&b, report);
    md_settings(&b, report);
    md_table(&b, report);
    lr_markdown_rate(&b, report);
    lr_markdown_pairs(&b, report);
    lr_markdown_failures(&b, report);
    md_flags(&b, report);
    md_points(&b, report);
    md_overhead(&b, report);
    md_charts(&b, report);
    md_published(&b, report);
    char *text = lr_buf_take(&b);
    /* Each section ends with a blank line; the file, with one newline. */
    size_t len = text ? strlen(text) : 0;
    while (len >= 2 && text[len - 1] == '\n' && text[len - 2] == '\n')
        text[--len] = '\0';
    return text;
}
