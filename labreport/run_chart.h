/* A run's chart over time, <base>.latency.svg beside its <base>.json,
 * drawn by gnuplot from the report's "series" (docs/REPORT.md): x =
 * seconds since the run's start; left axis the p50 and p99 latency of the
 * responses that ended in each second (ms; log scale when they span more
 * than a factor 20); right axis the ok responses per second and the
 * requests in flight; dashed lines at the load's end (and the warm-up's),
 * dotted ones between steps, solid red ones at each worker killed (run.sh
 * --kill-worker-every, in the run's server.json). Like the matrix charts (charts.h), the script
 * carries its data inline and gnuplot's SVG has no date, so the same JSON
 * always gives the same bytes. The run's Markdown links the chart only
 * when it is there (run_report_markdown_with). */
#ifndef LABREPORT_RUN_CHART_H
#define LABREPORT_RUN_CHART_H

#include <jansson.h>
#include <stddef.h>

/* The chart's suffix, in place of the report's ".json". */
#define LR_RUN_CHART_SUFFIX ".latency.svg"

/* 1 when the report has series points to draw. */
int lr_run_chart_wanted(const json_t *run);

/* The gnuplot script that draws run's chart as file (the name in its
 * first comment line), as malloc'd text; NULL when out of memory.
 * resources: the run's server.json, or NULL. */
char *lr_run_chart_script(const json_t *run, const json_t *resources, const char *file);

/* How lr_run_chart_write treats a chart already there. */
typedef enum {
    LR_RUN_CHART_CREATE,  /* labreport run: leave it (a note on stderr), as the .md */
    LR_RUN_CHART_REPLACE, /* labreport report: draw it again over the old one */
} lr_run_chart_mode_t;

#define LR_RUN_CHART_DRAWN 1
#define LR_RUN_CHART_KEPT 2

/* Draw the chart of the report at json_path (its parsed run) beside it;
 * name gets the chart's file name, without the folder, for the Markdown's
 * link. Returns LR_RUN_CHART_DRAWN, LR_RUN_CHART_KEPT (CREATE found one
 * there and left it), 0 when the report has no series (nothing drawn), or
 * -1 with the reason in err (gnuplot missing or failing; nothing
 * replaced). */
int lr_run_chart_write(const char *json_path, const json_t *run, const json_t *resources,
                       lr_run_chart_mode_t mode, char *name, size_t name_cap, char *err,
                       size_t err_len);

#endif
