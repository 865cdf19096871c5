#include "charts.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "buf.h"
#include "files.h"
#include "gnuplot.h"
#include "jsonutil.h"
#include "open_row.h"
#include "stats.h"

/* Bar charts grow with their bars; lines get a fixed size. */
#define BAR_WIDTH_BASE_PX 160
#define BAR_WIDTH_PER_BAR_PX 48
#define CHART_MIN_WIDTH_PX 640
#define CHART_HEIGHT_PX 480
#define LINES_WIDTH_PX 900
/* c-python.svg: a group of three bars per classic configuration. */
#define PAIR_GROUP_WIDTH_PX 110
#define PAIR_BAR_OFFSET 0.27
#define PAIR_BAR_WIDTH 0.26
/* Room above the highest bar or ceiling, for the key. */
#define BAR_HEADROOM 1.18
/* A y axis whose values span more than this ratio is drawn log scale. */
#define LOG_Y_RATIO 20.0
#define LOG_X_RATIO 10.0

/* Paul Tol's colour-blind-safe sets, then black; past them the dash
 * pattern changes. */
static const char *const palette[] = {"#4477AA", "#EE6677", "#228833", "#CCBB44",
                                      "#66CCEE", "#AA3377", "#EE7733", "#009988",
                                      "#332288", "#882255", "#999933", "#000000"};
#define PALETTE_SIZE (sizeof palette / sizeof palette[0])

/* The percentiles of the spectrum (the report's, less 100%: x would be
 * infinite). */
static const char *const spectrum_keys[] = {"50", "60", "70", "80", "90", "95", "99", "99.9"};
static const double spectrum_p[] = {0.50, 0.60, 0.70, 0.80, 0.90, 0.95, 0.99, 0.999};
#define SPECTRUM_COUNT (sizeof spectrum_p / sizeof spectrum_p[0])

static double row_median(const json_t *row, const char *key)
{
    return lr_stat_from_json(json_object_get(row, key)).median;
}

static long row_c(const json_t *row)
{
    const json_t *c = json_object_get(row, "concurrency");
    return json_is_integer(c) && json_integer_value(c) > 0 && json_integer_value(c) <= LONG_MAX
               ? (long)json_integer_value(c)
               : 0;
}

static int row_has_runs(const json_t *row)
{
    const json_t *n = json_object_get(row, "runs");
    return json_is_integer(n) && json_integer_value(n) > 0 ? 1 : 0;
}

/* The row's offered rate (an open loop at a constant rate), else NaN. */
static double row_rate(const json_t *row)
{
    double r = lr_jnum_get(row, "rate");
    return r > 0 ? r : NAN;
}

double lr_report_headline_rate(const json_t *report)
{
    double highest = NAN;
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row) {
        double r = row_rate(row);
        highest = isnan(highest) || r > highest ? r : highest;
    }
    return highest;
}

int lr_report_is_rate_sweep(const json_t *report)
{
    double first = NAN;
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row) {
        double r = row_rate(row);
        if (isnan(r))
            continue;
        if (isnan(first))
            first = r;
        else if (!lr_same_rate(r, first))
            return 1;
    }
    return 0;
}

long lr_report_headline_c(const json_t *report)
{
    double settings_c = lr_jnum_at(report, "settings", "concurrency");
    long highest = 0;
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row) {
        long c = row_c(row);
        if (c > 0 && (double)c == settings_c)
            return c;
        highest = c > highest ? c : highest;
    }
    return highest;
}

int lr_report_is_sweep(const json_t *report)
{
    long first = 0;
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row) {
        long c = row_c(row);
        if (first == 0)
            first = c;
        else if (c != first)
            return 1;
    }
    return 0;
}

/* Where the per-variant charts look: one concurrency and one rate (NaN:
 * the rows have none). */
typedef struct headline {
    long c;
    double rate;
} headline_t;

static headline_t headline_of(const json_t *report)
{
    return (headline_t){lr_report_headline_c(report), lr_report_headline_rate(report)};
}

/* Rows that a per-variant chart of metric key shows. */
static int headline_row(const json_t *row, const headline_t *h, const char *key)
{
    if (row_c(row) != h->c || !lr_same_rate(row_rate(row), h->rate) || !row_has_runs(row))
        return 0;
    if (strcmp(key, "percentiles_ms") == 0)
        return isfinite(lr_jnum_at(row, "percentiles_ms", "50"));
    return isfinite(row_median(row, key));
}

/* A row with a figure for key: among the headline's rows, or (h NULL)
 * among all. */
static int any_row(const json_t *report, const headline_t *h, const char *key)
{
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row) {
        if (h != NULL ? headline_row(row, h, key)
                      : row_has_runs(row) && isfinite(row_median(row, key)))
            return 1;
    }
    return 0;
}

/* A pair that c-python.svg can draw at c: C's or Python's rps known. */
static int pair_drawn(const json_t *pair, long c)
{
    return lr_jnum_get(pair, "concurrency") == (double)c &&
           (isfinite(lr_jnum_at(pair, "c", "rps")) || isfinite(lr_jnum_at(pair, "python", "rps")));
}

/* The concurrency c-python.svg shows: the headline's when a pair there
 * can be drawn, else the highest such pair's; 0: no chart. */
static long pairs_chart_c(const json_t *report)
{
    long hc = lr_report_headline_c(report), highest = 0;
    size_t i;
    const json_t *pair;
    json_array_foreach(json_object_get(report, "pairs"), i, pair) {
        double c = lr_jnum_get(pair, "concurrency");
        if (!(c > 0 && c <= LONG_MAX) || !pair_drawn(pair, (long)c))
            continue;
        if ((long)c == hc)
            return hc;
        highest = (long)c > highest ? (long)c : highest;
    }
    return highest;
}

size_t lr_charts_of(const json_t *report, lr_chart_t out[LR_CHART_MAX])
{
    size_t n = 0;
    headline_t headline = headline_of(report);
    /* Without a headline (no row has a concurrency), any row. */
    const headline_t *h = headline.c > 0 ? &headline : NULL;
    if (any_row(report, h, "rps"))
        out[n++] = (lr_chart_t){"rps.svg", "rps against the ceiling, per variant"};
    if (any_row(report, h, "percentiles_ms"))
        out[n++] = (lr_chart_t){"latency.svg", "latency percentiles, per variant"};
    if (any_row(report, h, "server_cpu_ms_per_request"))
        out[n++] = (lr_chart_t){"cpu.svg", "server CPU ms per request, per variant"};
    if (lr_report_is_sweep(report)) {
        if (any_row(report, NULL, "rps"))
            out[n++] = (lr_chart_t){"sweep_rps.svg", "rps against concurrency"};
        if (any_row(report, NULL, "p99_ms"))
            out[n++] = (lr_chart_t){"sweep_p99.svg", "p99 latency against concurrency"};
    }
    if (lr_report_is_rate_sweep(report) && any_row(report, NULL, "p99_ms"))
        out[n++] = (lr_chart_t){"latency-vs-rate.svg", "p99 latency against offered load: "
                                                       "where it leaves the delay"};
    if (pairs_chart_c(report) > 0)
        out[n++] = (lr_chart_t){"c-python.svg", "rps per classic configuration: C, Python and "
                                                "the study's published figure"};
    return n;
}

/* s as a quoted string of a data block, which knows no escapes: a double
 * quote becomes a single one. */
static void gp_data_string(lr_buf_t *b, const char *s)
{
    lr_buf_puts(b, "\"");
    for (; *s; s++) {
        char c[2] = {*s == '"' ? '\'' : (unsigned char)*s < 0x20 ? ' ' : *s, '\0'};
        lr_buf_puts(b, c);
    }
    lr_buf_puts(b, "\"");
}

static void gp_header(lr_buf_t *b, const char *file, int width, const char *title)
{
    lr_buf_printf(b, "# %s: drawn by labreport from report.json (gnuplot this > %s)\n", file,
                  file);
    lr_gnuplot_svg_terminal(b, width, CHART_HEIGHT_PX);
    lr_buf_puts(b, "set title ");
    lr_gnuplot_string(b, title);
    lr_buf_puts(b, "\n");
}

static const char *workload_of(const json_t *report)
{
    const char *w = lr_jstr_get(report, "workload");
    return w ? w : "?";
}

/* "io, c=100", and ", rate 150/s" when the rows have rates: a per-variant
 * chart's place in the matrix, for its title. */
static void headline_text(char *out, size_t cap, const json_t *report, const headline_t *h)
{
    if (isnan(h->rate))
        snprintf(out, cap, "%s, c=%ld", workload_of(report), h->c);
    else
        snprintf(out, cap, "%s, c=%ld, rate %g/s", workload_of(report), h->c, h->rate);
}

/* rps.svg and cpu.svg: one bar per variant at the headline concurrency,
 * with the min-max spread when some row has repeats, and for rps the
 * ceiling as a dashed mark across the bar. */
static char *bars_script(const json_t *report, const char *file, const char *key,
                         const char *ylabel, int with_ceiling)
{
    headline_t h = headline_of(report);
    lr_buf_t data = LR_BUF_INIT, b = LR_BUF_INIT;
    size_t n = 0, i;
    int repeats = 0, ceilings = 0;
    double top = 0;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row) {
        if (!headline_row(row, &h, key))
            continue;
        lr_stat_t s = lr_stat_from_json(json_object_get(row, key));
        double ceiling = lr_jnum_get(row, "ceiling_rps");
        repeats |= json_integer_value(json_object_get(row, "runs")) > 1;
        ceilings |= with_ceiling && isfinite(ceiling);
        top = fmax(top, fmax(s.max, with_ceiling && isfinite(ceiling) ? ceiling : 0));
        lr_buf_printf(&data, "%zu ", n++);
        gp_data_string(&data, lr_jstr_get(row, "variant") ? lr_jstr_get(row, "variant") : "?");
        lr_gnuplot_num(&data, s.median);
        lr_gnuplot_num(&data, s.min);
        lr_gnuplot_num(&data, s.max);
        lr_gnuplot_num(&data, with_ceiling ? ceiling : NAN);
        lr_buf_puts(&data, "\n");
    }
    char title[256], where[128];
    headline_text(where, sizeof where, report, &h);
    snprintf(title, sizeof title, "%s (%s%s)", ylabel, where,
             repeats ? "; median, bars min to max" : "");
    int width = BAR_WIDTH_BASE_PX + BAR_WIDTH_PER_BAR_PX * (int)(n < 200 ? n : 200);
    gp_header(&b, file, width > CHART_MIN_WIDTH_PX ? width : CHART_MIN_WIDTH_PX, title);
    lr_buf_printf(&b, "set ylabel \"%s\"\nset xrange [-0.6:%zu.4]\n", ylabel, n ? n - 1 : 0);
    if (top > 0)
        lr_buf_printf(&b, "set yrange [0:%.6g]\n", top * BAR_HEADROOM);
    else
        lr_buf_puts(&b, "set yrange [0:*]\n");
    lr_buf_puts(&b, "set style fill solid 0.75 border -1\nset boxwidth 0.6\nset grid ytics\n"
                    "set xtics rotate by 30 right nomirror\nset key inside top right "
                    "horizontal opaque\n$bars << EOD\n");
    char *d = lr_buf_take(&data);
    lr_buf_puts(&b, d ? d : "");
    if (d == NULL)
        b.failed = 1;
    free(d);
    lr_buf_printf(&b, "EOD\nplot $bars using 1:3:xtic(2) with boxes lc rgb \"%s\" %s",
                  palette[0], repeats ? "title \"median\"" : "notitle");
    if (repeats)
        lr_buf_puts(&b, ", \\\n     $bars using 1:3:4:5 with yerrorbars lc rgb \"#222222\" "
                        "pt 0 title \"min to max\"");
    if (ceilings)
        lr_buf_puts(&b, ", \\\n     $bars using ($1-0.4):6:(0.8):(0) with vectors nohead "
                        "lw 2 dt 2 lc rgb \"#CC3311\" title \"ceiling\"");
    lr_buf_puts(&b, "\n");
    return lr_buf_take(&b);
}

static void series_style(lr_buf_t *b, size_t k)
{
    lr_buf_printf(b, "lc rgb \"%s\" dt %zu", palette[k % PALETTE_SIZE], 1 + k / PALETTE_SIZE);
}

/* min and max of the positive values plotted, to choose a log y axis. */
static void track(double v, double *lo, double *hi)
{
    if (!(v > 0))
        return;
    *lo = isnan(*lo) || v < *lo ? v : *lo;
    *hi = isnan(*hi) || v > *hi ? v : *hi;
}

/* A log y axis over lo..hi (both > 0). yfix: a log axis would else
 * stretch to whole decades and squeeze the lines near the bottom one. */
static void log_y(lr_buf_t *b, double lo, double hi)
{
    lr_buf_printf(b, "set logscale y 10\nset yrange [%.6g:%.6g]\nset ytics (", lo / 1.1,
                  hi * 1.1);
    /* Ticks at 1, 2 and 5 of each decade: whole decades alone leave a
     * short range with one or two labels. */
    int first = 1;
    for (double decade = pow(10, floor(log10(lo / 1.1))); decade <= hi * 1.1; decade *= 10)
        for (int k = 0; k < 3; k++) {
            double t = decade * (k == 0 ? 1 : k == 1 ? 2 : 5);
            if (t < lo / 1.1 || t > hi * 1.1)
                continue;
            lr_buf_printf(b, "%s\"%g\" %g", first ? "" : ", ", t, t);
            first = 0;
        }
    lr_buf_puts(b, ")\n");
}

static void log_y_if_wide(lr_buf_t *b, double lo, double hi)
{
    if (lo > 0 && hi / lo > LOG_Y_RATIO)
        log_y(b, lo, hi);
    else
        lr_buf_puts(b, "set yrange [0:*]\n");
}

/* The script's end: the inline data blocks, then the plot command; the
 * whole script (NULL when memory ran out anywhere). */
static char *gp_finish(lr_buf_t *b, lr_buf_t *data, lr_buf_t *plot)
{
    char *d = lr_buf_take(data), *p = lr_buf_take(plot);
    if (d == NULL || p == NULL)
        b->failed = 1;
    lr_buf_printf(b, "%splot %s\n", d ? d : "", p ? p : "");
    free(d);
    free(p);
    return lr_buf_take(b);
}

static char *latency_script(const json_t *report)
{
    headline_t h = headline_of(report);
    lr_buf_t data = LR_BUF_INIT, plot = LR_BUF_INIT, b = LR_BUF_INIT;
    double lo = NAN, hi = NAN;
    size_t n = 0, i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row) {
        if (!headline_row(row, &h, "percentiles_ms"))
            continue;
        lr_buf_printf(&data, "$v%zu << EOD\n", n);
        for (size_t p = 0; p < SPECTRUM_COUNT; p++) {
            double ms = lr_jnum_at(row, "percentiles_ms", spectrum_keys[p]);
            track(ms, &lo, &hi);
            lr_gnuplot_num(&data, 1.0 / (1.0 - spectrum_p[p]));
            lr_gnuplot_num(&data, ms);
            lr_buf_puts(&data, "\n");
        }
        lr_buf_puts(&data, "EOD\n");
        lr_buf_printf(&plot, "%s$v%zu using 1:2 with linespoints ", n ? ", \\\n     " : "", n);
        series_style(&plot, n);
        lr_buf_puts(&plot, " pt 7 ps 0.5 lw 1.5 title ");
        lr_gnuplot_string(&plot, lr_jstr_get(row, "variant") ? lr_jstr_get(row, "variant") : "?");
        n++;
    }
    char title[256], where[128];
    headline_text(where, sizeof where, report, &h);
    snprintf(title, sizeof title, "latency by percentile (%s)", where);
    gp_header(&b, "latency.svg", LINES_WIDTH_PX, title);
    lr_buf_puts(&b, "set logscale x 10\nset xrange [1.6:1400]\n"
                    "set xtics (\"50%%\" 2, \"90%%\" 10, \"99%%\" 100, \"99.9%%\" 1000)\n"
                    "unset mxtics\nset xlabel \"percentile (x = 1 / (1 - p))\"\n"
                    "set ylabel \"latency (ms)\"\nset grid xtics ytics\n"
                    "set key outside right top vertical\n");
    log_y_if_wide(&b, lo, hi);
    return gp_finish(&b, &data, &plot);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The rows' distinct values of get (NaN: the row has none), ascending:
 * a sweep's concurrencies or rates. NULL when out of memory. */
static double *distinct_values(const json_t *report, double (*get)(const json_t *row),
                               size_t *count)
{
    size_t rows = json_array_size(json_object_get(report, "rows")), n = 0, i;
    double *v = malloc((rows ? rows : 1) * sizeof *v);
    if (v == NULL)
        return NULL;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row) {
        double x = get(row);
        int seen = isnan(x);
        for (size_t k = 0; k < n && !seen; k++)
            seen = lr_same_rate(v[k], x);
        if (!seen)
            v[n++] = x;
    }
    qsort(v, n, sizeof *v, cmp_double);
    *count = n;
    return v;
}

static double row_c_or_nan(const json_t *row)
{
    long c = row_c(row);
    return c > 0 ? (double)c : NAN;
}

/* The x axis of a sweep chart: a tick at each value (concurrency, offered
 * rate), log when they span a decade or more. */
static void sweep_axis(lr_buf_t *b, const double *v, size_t n, const char *xlabel)
{
    if (n > 0 && v[0] > 0 && v[n - 1] / v[0] >= LOG_X_RATIO)
        lr_buf_printf(b, "set logscale x 10\nset xrange [%g:%g]\n", v[0] / 1.5, v[n - 1] * 1.5);
    else if (n > 0)
        lr_buf_printf(b, "set xrange [%g:%g]\n", v[0] * 0.9, v[n - 1] * 1.1);
    lr_buf_puts(b, "set xtics (");
    for (size_t k = 0; k < n; k++) {
        /* Whole numbers in full (a concurrency of 1000000 is no 1e+06). */
        const char *fmt = v[k] == floor(v[k]) ? "%s\"%.0f\" %.0f" : "%s\"%g\" %g";
        lr_buf_printf(b, fmt, k ? ", " : "", v[k], v[k]);
    }
    lr_buf_printf(b, ")\nunset mxtics\nset xlabel \"%s\"\nset grid xtics ytics\n"
                     "set key outside right top vertical\n",
                  xlabel);
}

/* The variants of the rows, in the order of their first row. */
static int seen_before(const json_t *rows, size_t i, const char *variant)
{
    for (size_t k = 0; k < i; k++) {
        const char *v = lr_jstr_get(json_array_get(rows, k), "variant");
        if (v != NULL && strcmp(v, variant) == 0)
            return 1;
    }
    return 0;
}

/* 1 when some row of variant has a figure for key: a variant without
 * one gets no line (gnuplot would warn of an empty block). */
static int variant_has(const json_t *rows, const char *variant, const char *key)
{
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row) {
        const char *v = lr_jstr_get(row, "variant");
        if (v != NULL && strcmp(v, variant) == 0 && row_has_runs(row) &&
            isfinite(row_median(row, key)))
            return 1;
    }
    return 0;
}

/* One block per variant: concurrency, median of key, ceiling; rows in
 * concurrency order. lo and hi take the plotted values' range. */
static void sweep_block(lr_buf_t *data, const json_t *rows, const char *variant, size_t k,
                        const double *c, size_t nc, const char *key, int with_ceiling, double *lo,
                        double *hi)
{
    lr_buf_printf(data, "$v%zu << EOD\n", k);
    for (size_t j = 0; j < nc; j++) {
        size_t i;
        const json_t *row;
        json_array_foreach(rows, i, row) {
            const char *v = lr_jstr_get(row, "variant");
            if (v == NULL || strcmp(v, variant) != 0 || (double)row_c(row) != c[j] ||
                !row_has_runs(row))
                continue;
            double m = row_median(row, key);
            track(m, lo, hi);
            if (with_ceiling)
                track(lr_jnum_get(row, "ceiling_rps"), lo, hi);
            lr_gnuplot_num(data, c[j]);
            lr_gnuplot_num(data, m);
            lr_gnuplot_num(data, lr_jnum_get(row, "ceiling_rps"));
            lr_buf_puts(data, "\n");
            break;
        }
    }
    lr_buf_puts(data, "EOD\n");
}

static char *sweep_script(const json_t *report, const char *file, const char *key,
                          const char *ylabel, int with_ceiling)
{
    size_t nc = 0;
    double *c = distinct_values(report, row_c_or_nan, &nc);
    if (c == NULL)
        return NULL;
    const json_t *rows = json_object_get(report, "rows");
    lr_buf_t data = LR_BUF_INIT, plot = LR_BUF_INIT, b = LR_BUF_INIT;
    double lo = NAN, hi = NAN;
    size_t n = 0, i;
    const json_t *row;
    json_array_foreach(rows, i, row) {
        const char *variant = lr_jstr_get(row, "variant");
        if (variant == NULL || seen_before(rows, i, variant) || !variant_has(rows, variant, key))
            continue;
        sweep_block(&data, rows, variant, n, c, nc, key, with_ceiling, &lo, &hi);
        lr_buf_printf(&plot, "%s$v%zu using 1:2 with linespoints ", n ? ", \\\n     " : "", n);
        series_style(&plot, n);
        lr_buf_puts(&plot, " pt 7 ps 0.6 lw 1.5 title ");
        lr_gnuplot_string(&plot, variant);
        if (with_ceiling) {
            lr_buf_printf(&plot, ", \\\n     $v%zu using 1:3 with lines lc rgb \"%s\" dt 2 "
                                 "lw 1 notitle", n, palette[n % PALETTE_SIZE]);
        }
        n++;
    }
    char title[256];
    snprintf(title, sizeof title, "%s against concurrency (%s%s)", ylabel, workload_of(report),
             with_ceiling ? "; dashed: each variant's ceiling" : "");
    gp_header(&b, file, LINES_WIDTH_PX, title);
    sweep_axis(&b, c, nc, "concurrency (clients)");
    lr_buf_printf(&b, "set ylabel \"%s\"\n", ylabel);
    log_y_if_wide(&b, lo, hi);
    free(c);
    return gp_finish(&b, &data, &plot);
}

/* One block per variant: offered rate, median corrected p99; rows at the
 * headline concurrency, in rate order. lo and hi take the values' range. */
static void rate_block(lr_buf_t *data, const json_t *rows, const char *variant, size_t k,
                       long c, const double *rates, size_t nr, double *lo, double *hi)
{
    lr_buf_printf(data, "$v%zu << EOD\n", k);
    for (size_t j = 0; j < nr; j++) {
        size_t i;
        const json_t *row;
        json_array_foreach(rows, i, row) {
            const char *v = lr_jstr_get(row, "variant");
            if (v == NULL || strcmp(v, variant) != 0 || row_c(row) != c ||
                !lr_same_rate(row_rate(row), rates[j]) || !row_has_runs(row))
                continue;
            double p99 = row_median(row, "p99_ms");
            track(p99, lo, hi);
            lr_gnuplot_num(data, rates[j]);
            lr_gnuplot_num(data, p99);
            lr_buf_puts(data, "\n");
            break;
        }
    }
    lr_buf_puts(data, "EOD\n");
}

/* latency-vs-rate.svg, the capacity-planning chart: x = offered rate, y =
 * the corrected p99 (from each request's planned send) on a log axis, one
 * line per variant at the headline concurrency (the connection limit), and
 * the upstream delay as a dashed level. Every request waits the delay at
 * least, so a line on that level is a variant keeping up; where it leaves
 * it, requests queue, and past its ceiling the queue grows for the whole
 * run. The axis reaches twice the delay at least, so that a flat line at
 * the delay reads as flat. */
static char *rate_script(const json_t *report)
{
    size_t nr = 0;
    double *rates = distinct_values(report, row_rate, &nr);
    if (rates == NULL)
        return NULL;
    long c = lr_report_headline_c(report);
    const json_t *rows = json_object_get(report, "rows");
    double delay_ms = lr_jnum_at(report, "settings", "delay_s") * 1000.0;
    lr_buf_t data = LR_BUF_INIT, plot = LR_BUF_INIT, b = LR_BUF_INIT;
    double lo = NAN, hi = NAN;
    size_t n = 0, i;
    const json_t *row;
    json_array_foreach(rows, i, row) {
        const char *variant = lr_jstr_get(row, "variant");
        if (variant == NULL || seen_before(rows, i, variant) ||
            !variant_has(rows, variant, "p99_ms"))
            continue;
        rate_block(&data, rows, variant, n, c, rates, nr, &lo, &hi);
        lr_buf_printf(&plot, "%s$v%zu using 1:2 with linespoints ", n ? ", \\\n     " : "", n);
        series_style(&plot, n);
        lr_buf_puts(&plot, " pt 7 ps 0.6 lw 1.5 title ");
        lr_gnuplot_string(&plot, variant);
        n++;
    }
    char title[256];
    if (delay_ms > 0) {
        track(delay_ms, &lo, &hi);
        track(delay_ms * 2, &lo, &hi);
        lr_buf_printf(&plot, "%s%.6g with lines lc rgb \"#222222\" dt 2 lw 1 title "
                             "\"the delay (%g ms)\"", n ? ", \\\n     " : "", delay_ms, delay_ms);
        snprintf(title, sizeof title, "p99 latency against offered load (%s, at most %ld "
                 "connections; dashed: the delay)", workload_of(report), c);
    } else {
        snprintf(title, sizeof title, "p99 latency against offered load (%s, at most %ld "
                 "connections)", workload_of(report), c);
    }
    gp_header(&b, "latency-vs-rate.svg", LINES_WIDTH_PX, title);
    sweep_axis(&b, rates, nr, "offered rate (requests/s)");
    lr_buf_puts(&b, "set ylabel \"p99 latency (ms), from the planned send\"\n");
    if (lo > 0)
        log_y(&b, lo, hi);
    else
        lr_buf_puts(&b, "set yrange [0:*]\n");
    free(rates);
    return gp_finish(&b, &data, &plot);
}

/* "sync-uwsgi 1x50": a pair's classic configuration, for the x axis. */
static void pair_label(lr_buf_t *b, const json_t *pair)
{
    const char *alias = lr_jstr_get(pair, "alias"), *config = lr_jstr_get(pair, "config");
    char label[256];
    snprintf(label, sizeof label, "%s%s%s", alias ? alias : "?", config ? " " : "",
             config ? config : "");
    lr_gnuplot_string(b, label);
}

/* The pairs' bars, columns: index, C rps, Python rps, published rps;
 * has[k] says whether column 2 + k holds a number anywhere. */
static size_t pairs_data(lr_buf_t *data, lr_buf_t *xtics, const json_t *report, long c,
                         int has[3], double *top)
{
    size_t n = 0, i;
    const json_t *pair;
    json_array_foreach(json_object_get(report, "pairs"), i, pair) {
        if (!pair_drawn(pair, c))
            continue;
        double v[3] = {lr_jnum_at(pair, "c", "rps"), lr_jnum_at(pair, "python", "rps"),
                       lr_jnum_get(pair, "published_rps")};
        lr_buf_printf(data, "%zu", n);
        for (int k = 0; k < 3; k++) {
            lr_gnuplot_num(data, v[k]);
            has[k] |= isfinite(v[k]);
            *top = isfinite(v[k]) ? fmax(*top, v[k]) : *top;
        }
        lr_buf_puts(data, "\n");
        lr_buf_puts(xtics, n ? ", " : "");
        pair_label(xtics, pair);
        lr_buf_printf(xtics, " %zu", n++);
    }
    return n;
}

/* c-python.svg's settings: size, title, axes (xtics: the labels), key. */
static void pairs_header(lr_buf_t *b, const json_t *report, long c, size_t n, double top,
                         lr_buf_t *xtics)
{
    char title[256];
    snprintf(title, sizeof title, "rps per classic configuration: C, Python, published (%s, "
             "c=%ld)", workload_of(report), c);
    int width = BAR_WIDTH_BASE_PX + PAIR_GROUP_WIDTH_PX * (int)(n < 100 ? n : 100);
    gp_header(b, "c-python.svg", width > CHART_MIN_WIDTH_PX ? width : CHART_MIN_WIDTH_PX, title);
    lr_buf_printf(b, "set ylabel \"requests per second\"\nset xrange [-0.6:%zu.6]\n",
                  n ? n - 1 : 0);
    if (top > 0)
        lr_buf_printf(b, "set yrange [0:%.6g]\n", top * BAR_HEADROOM);
    else
        lr_buf_puts(b, "set yrange [0:*]\n");
    char *x = lr_buf_take(xtics);
    lr_buf_printf(b, "set style fill solid 0.75 border -1\nset grid ytics\n"
                     "set xtics rotate by 30 right nomirror (%s)\n"
                     "set key inside top right horizontal opaque\n$pairs << EOD\n",
                  x ? x : "");
    b->failed |= x == NULL;
    free(x);
}

/* c-python.svg: per classic configuration, three bars side by side (a
 * series without any figure is left out: gnuplot would warn). */
static char *pairs_script(const json_t *report)
{
    static const char *const titles[3] = {"C", "Python", "published"};
    static const double offsets[3] = {-PAIR_BAR_OFFSET, 0, PAIR_BAR_OFFSET};
    long c = pairs_chart_c(report);
    lr_buf_t data = LR_BUF_INIT, xtics = LR_BUF_INIT, plot = LR_BUF_INIT, b = LR_BUF_INIT;
    int has[3] = {0, 0, 0};
    double top = 0;
    size_t n = pairs_data(&data, &xtics, report, c, has, &top);
    pairs_header(&b, report, c, n, top, &xtics);
    for (int k = 0, shown = 0; k < 3; k++) {
        if (!has[k])
            continue;
        lr_buf_printf(&plot, "%s$pairs using ($1%+.2f):%d:(%.2f) with boxes lc rgb \"%s\" title ",
                      shown++ ? ", \\\n     " : "", offsets[k], 2 + k, PAIR_BAR_WIDTH,
                      palette[k]);
        lr_gnuplot_string(&plot, titles[k]);
    }
    lr_buf_puts(&data, "EOD\n");
    return gp_finish(&b, &data, &plot);
}

char *lr_chart_script(const json_t *report, const char *file)
{
    if (strcmp(file, "c-python.svg") == 0)
        return pairs_script(report);
    if (strcmp(file, "rps.svg") == 0)
        return bars_script(report, file, "rps", "requests per second", 1);
    if (strcmp(file, "cpu.svg") == 0)
        return bars_script(report, file, "server_cpu_ms_per_request",
                           "server CPU ms per request", 0);
    if (strcmp(file, "latency.svg") == 0)
        return latency_script(report);
    if (strcmp(file, "sweep_rps.svg") == 0)
        return sweep_script(report, file, "rps", "requests per second", 1);
    if (strcmp(file, "sweep_p99.svg") == 0)
        return sweep_script(report, file, "p99_ms", "p99 latency (ms)", 0);
    if (strcmp(file, "latency-vs-rate.svg") == 0)
        return rate_script(report);
    return NULL;
}

int lr_charts_write(const char *dir, const json_t *report, char *err, size_t err_len)
{
    lr_chart_t charts[LR_CHART_MAX];
    size_t n = lr_charts_of(report, charts);
    if (n == 0)
        return 0;
    if (!lr_gnuplot_found()) {
        snprintf(err, err_len, "%s: gnuplot is not in PATH, so the charts were not drawn: "
                 "install it (Debian: apt-get install gnuplot-nox), then run "
                 "`labreport report %s`", dir, dir);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        if (lr_path_join(path, sizeof path, dir, charts[i].file) < 0) {
            snprintf(err, err_len, "%s: path too long", dir);
            return -1;
        }
        char *script = lr_chart_script(report, charts[i].file);
        if (script == NULL) {
            snprintf(err, err_len, "%s: out of memory", path);
            return -1;
        }
        int rc = lr_gnuplot_draw(path, script, err, err_len);
        free(script);
        if (rc < 0)
            return -1;
    }
    char probe[PATH_MAX];
    if (lr_path_join(probe, sizeof probe, dir, charts[0].file) < 0)
        return 0;
    return afile_sync_parent(probe, err, err_len) < 0 ? -1 : 0;
}
