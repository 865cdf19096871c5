/* The matrix report's charts, SVG drawn by gnuplot (from PATH; Debian's
 * gnuplot-nox). Each chart is one gnuplot script that carries its data
 * inline ($data << EOD), so the script is the chart's only input; it is
 * written to a temporary file, gnuplot's SVG goes to another, which is
 * renamed over the chart. gnuplot's SVG terminal writes no date, so the
 * same report.json always gives the same bytes.
 *
 *   rps.svg        rps (median, min-max) against the ceiling, per variant
 *   latency.svg    the percentile spectrum per variant: x = 1/(1-p) on a
 *                  log axis (50% ... 99.9%), y = latency, as HdrHistogram
 *                  plots it, so the tail gets as much room as the median
 *   cpu.svg        the server's CPU ms per request, per variant
 *   sweep_rps.svg  (several concurrencies) rps against concurrency, each
 *                  variant's ceiling dashed in its colour
 *   sweep_p99.svg  p99 against concurrency
 *   c-python.svg   (schema 2, with pairs) grouped bars per classic
 *                  configuration: the C variant's rps, the Python
 *                  deployment's and the study's published figure
 *   latency-vs-rate.svg  (several offered rates: --sweep rate=) the
 *                  corrected p99 against offered load, log y, a line per
 *                  variant, the delay dashed: where p99 leaves the delay
 * The per-variant charts show the rows at the headline concurrency (and
 * rate, when the rows have rates), and c-python.svg the pairs there (else
 * at the pairs' highest). */
#ifndef LABREPORT_CHARTS_H
#define LABREPORT_CHARTS_H

#include <jansson.h>
#include <stddef.h>

#define LR_CHART_MAX 7

typedef struct lr_chart {
    const char *file; /* "rps.svg" */
    const char *alt;  /* the Markdown image's text */
} lr_chart_t;

/* The charts report has data for, in report.md's order; returns how many
 * went to out. */
size_t lr_charts_of(const json_t *report, lr_chart_t out[LR_CHART_MAX]);

/* The concurrency of the per-variant charts: the settings' concurrency
 * when some row has it, else the highest of the rows'; 0 without rows. */
long lr_report_headline_c(const json_t *report);
/* 1 when the rows hold more than one concurrency. */
int lr_report_is_sweep(const json_t *report);
/* The rate of the per-variant charts: the highest of the rows' offered
 * rates; NaN when no row has one (closed loops). */
double lr_report_headline_rate(const json_t *report);
/* 1 when the rows hold more than one offered rate (--sweep rate=). */
int lr_report_is_rate_sweep(const json_t *report);

/* The gnuplot script that draws file ("rps.svg", ...) from report, as
 * malloc'd text; NULL for an unknown name or when out of memory. */
char *lr_chart_script(const json_t *report, const char *file);

/* Draw every chart of lr_charts_of into dir. Returns 0, or -1 with the
 * reason in err (gnuplot missing from PATH, or failing). */
int lr_charts_write(const char *dir, const json_t *report, char *err, size_t err_len);

#endif
