/* A matrix folder (results/<UTC>_matrix_<workload>/, written by run.sh
 * all): plan.json, points/NNN.json, and each run's report and
 * .server.json, made into one report.json (the matrix report, kind
 * "matrix-report"), from which report.md and the charts are rendered.
 * Every figure the Markdown and the charts show is in report.json, so
 * that `labreport report` rebuilds them from it alone, byte for byte. */
#ifndef LABREPORT_MATRIX_H
#define LABREPORT_MATRIX_H

#include <jansson.h>
#include <stddef.h>

#define LR_PLAN_FILE "plan.json"
#define LR_PLAN_KIND "matrix-plan"
#define LR_PLAN_SCHEMA 1
#define LR_MATRIX_FILE "report.json"
#define LR_MATRIX_MD "report.md"
#define LR_MATRIX_KIND "matrix-report"
/* The schema labreport matrix writes (schemas/matrix-report-2): 1's
 * fields, and each row's impl and server_busy, and the report's pairs
 * (pairs.h); an open loop's rows add optional members (open_row.h), one
 * row per (variant, concurrency, rate). Schema 1 reports (archived) are
 * still read and rendered as they were: what they lack is left out of
 * their Markdown. */
#define LR_MATRIX_SCHEMA 2
#define LR_MATRIX_SCHEMA_MIN 1

/* The matrix report of the folder dir; study (the classic study's
 * figures, or NULL) gives each row its published figures. NULL with the
 * reason in err when plan.json is missing or not a plan; a point that
 * failed or whose report cannot be read is listed in "failed", not an
 * error. */
json_t *lr_matrix_build(const char *dir, const json_t *study, char *err, size_t err_len);

/* 0 when report is a matrix report this labreport renders (schema 1 or
 * 2), else -1 with the reason (name: the file it came from). */
int lr_matrix_check(const json_t *report, const char *name, char *err, size_t err_len);

/* The report's schema_version; 0 when it has none. */
int lr_matrix_schema(const json_t *report);

/* Write dir/report.md and the charts from report. Returns 0, or -1 with
 * the reason in err. */
int lr_matrix_render(const char *dir, const json_t *report, char *err, size_t err_len);

/* build, write dir/report.json, then render from that file's text parsed
 * back (so that this output and a later rebuild are the same bytes). */
int lr_matrix_write(const char *dir, const json_t *study, char *err, size_t err_len);

#endif
