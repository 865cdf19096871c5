/* The lines and sections a run report gained with the open loop
 * (run_report.h, docs/REPORT.md): the load, the uncorrected latencies
 * beside the corrected ones, the open ceiling, the steps, the checks, the
 * samples file, the chart of the series and wrk2's percentile spectrum
 * (the last four a closed loop may have too). Every one prints nothing
 * when its field is absent, so an older report renders as before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_report_internal.h"

/* config.load "open"; without config.load, a config.rate says it. */
int run_report__is_open(const json_t *run)
{
    const json_t *cfg = rr_get(run, "config");
    const char *load = rr_str(cfg, "load", NULL);
    return load ? strcmp(load, "open") == 0 : json_is_object(rr_get(cfg, "rate"));
}

/* "20, 40, 80": a rate's rates. */
static void rr_print_rates(FILE *f, const json_t *rates)
{
    size_t i;
    const json_t *r;
    json_array_foreach(rates, i, r)
        fprintf(f, "%s%g", i ? ", " : "", json_number_value(r));
}

static void rr_print_load_text(FILE *f, const json_t *run)
{
    const json_t *rate = rr_get(rr_get(run, "config"), "rate");
    const json_t *rates = rr_get(rate, "rates");
    const char *schedule = rr_str(rate, "schedule", "");
    size_t n = json_array_size(rates);
    double first = json_number_value(json_array_get(rates, 0));
    double last = json_number_value(json_array_get(rates, n ? n - 1 : 0));
    if (strcmp(schedule, "constant") == 0 && n >= 1) {
        fprintf(f, "open loop at %g req/s (constant)", first);
    } else if (strcmp(schedule, "ramp") == 0 && n >= 2) {
        fprintf(f, "open loop from %g to %g req/s (ramp over %g s, then %g req/s)", first, last,
                rr_num(rate, "ramp_s"), last);
    } else if (strcmp(schedule, "steps") == 0 && n >= 1) {
        fprintf(f, "open loop at ");
        rr_print_rates(f, rates);
        fprintf(f, " req/s (steps of %g s each)", rr_num(rate, "step_s"));
    } else {
        fprintf(f, "open loop (--rate %s)", rr_str(rate, "text", "unknown"));
    }
}

int run_report_load(const json_t *run, char *buf, size_t cap)
{
    if (cap > 0)
        buf[0] = '\0';
    if (!run_report__is_open(run))
        return 0;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f != NULL) {
        rr_print_load_text(f, run);
        if (fclose(f) == 0 && text != NULL)
            snprintf(buf, cap, "%s", text);
    }
    free(text);
    return 1;
}

/* "Load: open loop at 90 req/s (constant)"; nothing for a closed loop. */
void run_report__print_load(FILE *f, const json_t *run, const char *end)
{
    if (!run_report__is_open(run))
        return;
    fprintf(f, "Load: ");
    rr_print_load_text(f, run);
    fputs(end, f);
}

/* v by fmt into buf, or "n/a" when obj has no number at key. */
static const char *rr_fmt(char *buf, size_t cap, const char *fmt, const json_t *obj,
                          const char *key)
{
    double v;
    if (rr_number(obj, key, &v))
        snprintf(buf, cap, fmt, v);
    else
        snprintf(buf, cap, "n/a");
    return buf;
}

#define RR_CELL 48

#define RR_CORRECTED_NOTE                                                                        \
    "Corrected: latency from the planned send time (coordinated omission corrected); "           \
    "uncorrected: from the actual send."
#define RR_UNCORRECTED_LABEL "uncorrected (from the actual send)"

/* The summary's columns of the two latency rows: the mean and the tail. */
static const char *const rr_short_percentiles[] = {"50", "90", "99", "99.9", "100"};
#define RR_SHORT_COUNT (sizeof rr_short_percentiles / sizeof rr_short_percentiles[0])

/* label, the mean (summary[mean_key]) and p's percentiles of the list. */
static void rr_print_latency_row(FILE *f, const char *label, const json_t *run,
                                 const char *mean_key, const json_t *p)
{
    char cell[RR_CELL];
    fprintf(f, "%-34s%8s", label,
            rr_fmt(cell, sizeof cell, "%.1f", rr_get(run, "summary"), mean_key));
    for (size_t i = 0; i < RR_SHORT_COUNT; i++)
        fprintf(f, "%8s", rr_fmt(cell, sizeof cell, "%.1f", p, rr_short_percentiles[i]));
    fputc('\n', f);
}

/* The corrected latencies (the classic lines') and the uncorrected ones,
 * two rows of one table, then what corrected means. Only when the report
 * has the uncorrected figures (an open loop with responses). */
void run_report__print_latency_table(FILE *f, const json_t *run)
{
    const json_t *unc = rr_get(run, "percentiles_uncorrected_ms");
    if (!json_is_object(unc))
        return;
    fprintf(f, "%-34s%8s", "Latency (ms)", "mean");
    for (size_t i = 0; i < RR_SHORT_COUNT; i++)
        fprintf(f, "%7s%%", rr_short_percentiles[i]);
    fputc('\n', f);
    rr_print_latency_row(f, "corrected", run, "mean_ms", rr_get(run, "percentiles_ms"));
    rr_print_latency_row(f, RR_UNCORRECTED_LABEL, run, "mean_uncorrected_ms", unc);
    fprintf(f, "%s\n", RR_CORRECTED_NOTE);
}

/* The open loop's ceiling: the rate offered, when under the closed
 * ceiling min(c, capacity) / delay, is what the server can be asked to do. */
void run_report__print_open_ceiling(FILE *f, const json_t *run, const char *capacity)
{
    const json_t *c = rr_get(run, "ceiling");
    const json_t *cfg = rr_get(run, "config");
    const json_t *rate = rr_get(cfg, "rate");
    double offered, delay = rr_num(cfg, "delay_s");
    long long conc = rr_int(cfg, "concurrency"), cap = rr_int(c, "capacity");
    char rate_text[RR_CELL] = "rate", closed[RR_CELL] = "";
    if (rr_number(c, "offered_rps", &offered))
        snprintf(rate_text, sizeof rate_text, "offered %.1f rps", offered);
    else if (strcmp(rr_str(rate, "schedule", ""), "constant") == 0 &&
             json_is_number(json_array_get(rr_get(rate, "rates"), 0)))
        snprintf(rate_text, sizeof rate_text, "rate %g rps",
                 json_number_value(json_array_get(rr_get(rate, "rates"), 0)));
    if (delay > 0)
        snprintf(closed, sizeof closed, " = %.1f rps",
                 (double)(cap > 0 && cap < conc ? cap : conc) / delay);
    fprintf(f, "Ceiling: %.1f rps (min(%s, min(c=%lld, capacity=%s) / delay %g s%s)); "
               "measured/ceiling %.3f\n",
            rr_num(c, "rps"), rate_text, conc, capacity, delay, closed,
            rr_num(c, "measured_over_ceiling"));
}

/* ---- steps, checks, samples: text and Markdown share their cells ---- */

#define RR_STEP_COLUMNS 13
static const char *const rr_step_heads[RR_STEP_COLUMNS] = {
    "step", "seconds", "rate", "expected rps", "rps", "planned", "issued", "late", "failures",
    "p50", "p99", "p99.9", "p99 uncorrected"};
/* The summary's column widths (a header's or a cell's, the wider). */
static const int rr_step_widths[RR_STEP_COLUMNS] = {4, 7, 6, 12, 7, 7, 7, 6, 8, 8, 8, 8, 15};

static void rr_step_cells(const json_t *step, char cells[RR_STEP_COLUMNS][RR_CELL])
{
    const json_t *p = rr_get(step, "percentiles_ms");
    snprintf(cells[0], RR_CELL, "%lld", rr_int(step, "index") + 1);
    snprintf(cells[1], RR_CELL, "%g-%g", rr_num(step, "start_s"), rr_num(step, "end_s"));
    rr_fmt(cells[2], RR_CELL, "%g", step, "rate");
    rr_fmt(cells[3], RR_CELL, "%.1f", step, "expected_rps");
    rr_fmt(cells[4], RR_CELL, "%.1f", step, "rps");
    snprintf(cells[5], RR_CELL, "%lld", rr_int(step, "planned"));
    snprintf(cells[6], RR_CELL, "%lld", rr_int(step, "issued"));
    snprintf(cells[7], RR_CELL, "%lld", rr_int(step, "late"));
    snprintf(cells[8], RR_CELL, "%lld", rr_int(step, "failures"));
    rr_fmt(cells[9], RR_CELL, "%.1f", p, "50");
    rr_fmt(cells[10], RR_CELL, "%.1f", p, "99");
    rr_fmt(cells[11], RR_CELL, "%.1f", p, "99.9");
    rr_fmt(cells[12], RR_CELL, "%.1f", rr_get(step, "percentiles_uncorrected_ms"), "99");
}

static int rr_has_steps(const json_t *run)
{
    return json_array_size(rr_get(run, "steps")) > 0;
}

#define RR_STEPS_NOTE                                                                            \
    "each request in the step of its planned send; latencies in ms, corrected but the last"

void run_report__print_steps(FILE *f, const json_t *run)
{
    char cells[RR_STEP_COLUMNS][RR_CELL];
    size_t i;
    const json_t *step;
    if (!rr_has_steps(run))
        return;
    fprintf(f, "Steps (%s):\n", RR_STEPS_NOTE);
    for (size_t k = 0; k < RR_STEP_COLUMNS; k++)
        fprintf(f, "%s%*s", k ? " " : "", rr_step_widths[k], rr_step_heads[k]);
    fputc('\n', f);
    json_array_foreach(rr_get(run, "steps"), i, step) {
        rr_step_cells(step, cells);
        for (size_t k = 0; k < RR_STEP_COLUMNS; k++)
            fprintf(f, "%s%*s", k ? " " : "", rr_step_widths[k], cells[k]);
        fputc('\n', f);
    }
}

void run_report__md_steps(FILE *f, const json_t *run)
{
    char cells[RR_STEP_COLUMNS][RR_CELL];
    size_t i;
    const json_t *step;
    if (!rr_has_steps(run))
        return;
    fprintf(f, "\n## Steps\n\nOne row per step: %s.\n\n|", RR_STEPS_NOTE);
    for (size_t k = 0; k < RR_STEP_COLUMNS; k++)
        fprintf(f, " %s |", rr_step_heads[k]);
    fprintf(f, "\n|");
    for (size_t k = 0; k < RR_STEP_COLUMNS; k++)
        fprintf(f, "%s|", k == 1 ? "---" : "---:");
    fputc('\n', f);
    json_array_foreach(rr_get(run, "steps"), i, step) {
        rr_step_cells(step, cells);
        fputc('|', f);
        for (size_t k = 0; k < RR_STEP_COLUMNS; k++)
            fprintf(f, " %s |", cells[k]);
        fputc('\n', f);
    }
}

/* A check's measured value with its unit ("1003.2 ms", "0", "2.5%");
 * 0 when it was not measured (null). */
static int rr_check_value(char *buf, size_t cap, const json_t *check)
{
    double v;
    const char *unit = rr_str(check, "unit", NULL);
    if (!rr_number(check, "value", &v))
        return 0;
    if (unit != NULL && strcmp(unit, "ms") == 0)
        snprintf(buf, cap, "%.1f ms", v);
    else if (unit != NULL)
        snprintf(buf, cap, "%g%s%s", v, strcmp(unit, "%") == 0 ? "" : " ", unit);
    else
        snprintf(buf, cap, "%g", v);
    return 1;
}

void run_report__print_checks(FILE *f, const json_t *run)
{
    char value[RR_CELL];
    size_t i;
    const json_t *check;
    json_array_foreach(rr_get(run, "checks"), i, check) {
        fprintf(f, "Check: %s (", rr_str(check, "expr", "?"));
        if (rr_check_value(value, sizeof value, check))
            fprintf(f, "measured %s", value);
        else
            fprintf(f, "not measured");
        fprintf(f, "): %s\n", json_is_true(rr_get(check, "pass")) ? "pass" : "FAIL");
    }
}

void run_report__md_checks(FILE *f, const json_t *run)
{
    char value[RR_CELL];
    size_t i;
    const json_t *check;
    if (json_array_size(rr_get(run, "checks")) == 0)
        return;
    fprintf(f, "\n## Checks\n\n| check | measured | result |\n|---|---:|---|\n");
    json_array_foreach(rr_get(run, "checks"), i, check) {
        int measured = rr_check_value(value, sizeof value, check);
        fprintf(f, "| `%s` | %s | %s |\n", rr_str(check, "expr", "?"),
                measured ? value : "not measured",
                json_is_true(rr_get(check, "pass")) ? "pass" : "**FAIL**");
    }
}

/* "Samples: FILE (N rows)"; code is "`" in Markdown, "" in the summary. */
void run_report__print_samples(FILE *f, const json_t *run, const char *code)
{
    const json_t *samples = rr_get(run, "samples");
    if (!json_is_object(samples))
        return;
    fprintf(f, "Samples: %s%s%s (%lld rows, one per request)\n", code,
            rr_str(samples, "path", "?"), code, rr_int(samples, "rows"));
}

/* The two latency rows of the open loop, every percentile, after the
 * classic block (whose figures are the corrected row's). */
void run_report__md_latency_table(FILE *f, const json_t *run)
{
    const json_t *unc = rr_get(run, "percentiles_uncorrected_ms");
    const json_t *rows[2] = {rr_get(run, "percentiles_ms"), unc};
    static const char *const labels[2] = {"corrected", RR_UNCORRECTED_LABEL};
    static const char *const means[2] = {"mean_ms", "mean_uncorrected_ms"};
    char cell[RR_CELL];
    if (!json_is_object(unc))
        return;
    fprintf(f, "\n| latency (ms) | mean |");
    for (size_t i = 0; i < RR_PERCENTILE_COUNT; i++)
        fprintf(f, " %s%% |", rr_percentiles[i]);
    fprintf(f, "\n|---|---:|");
    for (size_t i = 0; i < RR_PERCENTILE_COUNT; i++)
        fprintf(f, "---:|");
    for (int r = 0; r < 2; r++) {
        fprintf(f, "\n| %s | %s |", labels[r],
                rr_fmt(cell, sizeof cell, "%.1f", rr_get(run, "summary"), means[r]));
        for (size_t i = 0; i < RR_PERCENTILE_COUNT; i++)
            fprintf(f, " %s |", rr_fmt(cell, sizeof cell, "%.1f", rows[r], rr_percentiles[i]));
    }
    fprintf(f, "\n\n%s\n", RR_CORRECTED_NOTE);
}

/* The chart of the series (labreport draws it beside the Markdown), only
 * when the caller says it was drawn. */
void run_report__md_over_time(FILE *f, const json_t *run, const char *chart)
{
    const json_t *series = rr_get(run, "series");
    if (chart == NULL || json_array_size(rr_get(series, "points")) == 0)
        return;
    fprintf(f, "\n## Over time\n\n![latency, ok rps and requests in flight over time](%s)\n\n",
            chart);
    fprintf(f, "One point per %g s from the run's start through the drain: p50 and p99 of the "
               "%slatencies of the responses that ended in it (left), ok responses per second "
               "and requests in flight at its end (right); dashed: the load's end.\n",
            rr_num(series, "interval_s"), run_report__is_open(run) ? "corrected " : "");
}

/* wrk2's columns: %12s headings, then value, percentile, count, 1/(1-p). */
#define RR_SPECTRUM_HEAD "%12s %12s %12s %12s\n\n"

/* latency_spectrum in the layout of wrk2 --latency's "Detailed
 * Percentile spectrum" (HdrHistogram's percentiles output), fenced. */
void run_report__md_spectrum(FILE *f, const json_t *run)
{
    const json_t *rows = rr_get(run, "latency_spectrum"), *row, *last;
    size_t i, n = json_array_size(rows);
    double mean;
    if (n == 0)
        return;
    fprintf(f, "\n## Latency percentile spectrum\n\nAs wrk2's `--latency` prints it, over the "
               "%slatencies of the percentiles above, each value exact (the sample at the "
               "percentile's nearest rank; TotalCount is that rank).\n\n```\n",
            run_report__is_open(run) ? "corrected " : "");
    fprintf(f, RR_SPECTRUM_HEAD, "Value(ms)", "Percentile", "TotalCount", "1/(1-Percentile)");
    json_array_foreach(rows, i, row) {
        double p = rr_num(row, "percentile");
        fprintf(f, "%12.3f %12.6f %12lld ", rr_num(row, "ms"), p, rr_int(row, "count"));
        if (p < 1)
            fprintf(f, "%12.2f\n", 1 / (1 - p));
        else
            fprintf(f, "%12s\n", "inf");
    }
    last = json_array_get(rows, n - 1);
    if (rr_number(rr_get(run, "summary"), "mean_ms", &mean))
        fprintf(f, "#[Mean    = %12.3f]\n", mean);
    fprintf(f, "#[Max     = %12.3f, Total count    = %12lld]\n```\n", rr_num(last, "ms"),
            rr_int(last, "count"));
}
