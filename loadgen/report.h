/* The report: the classic summary (stdout), JSON (schema in
 * docs/REPORT.md) and Markdown, and their atomic, never-overwriting
 * publication in --out DIR. */
#ifndef LOADGEN_REPORT_H
#define LOADGEN_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "loadgen.h"

#define LG_SCHEMA_VERSION 2
/* DIR/<name>.json exists: try <name>-2, -3, ... up to this. */
#define LG_PUBLISH_TRIES 1000

/* What the report is made of; filled by main after the run. */
typedef struct lg_result {
    const lg_config_t *cfg;
    const lg_stats_t *stats; /* all threads merged, samples sorted */
    long threads;
    double duration_s; /* the measured window (docs/REPORT.md) */
    const json_t *server; /* the /healthz description, or NULL */
    const char *variant;
    const char *workload;
    time_t started_at; /* wall clock when the load started */
    int interrupted; /* SIGINT/SIGTERM stopped the load early */
    int cpus;         /* CPUs loadgen may run on (its affinity mask) */
    int machine_cpus; /* CPUs online on the machine */
    char kernel[128];
} lg_result_t;

/* The upper bound an io run can reach: min(c, capacity) / delay. */
typedef struct lg_ceiling {
    int known;
    double rps;
    long capacity; /* as configured or reported: 0 = unbounded */
    double measured_over_ceiling;
    char note[192]; /* why there is no ceiling */
} lg_ceiling_t;

double report_rps(const lg_result_t *r);
/* The window's length in mean latencies (docs/REPORT.md); 0: no answer. */
double report_window_latencies(const lg_result_t *r);
void report_ceiling(const lg_result_t *r, lg_ceiling_t *out);

/* Each returns a new reference / malloc'd text, or NULL when out of
 * memory. */
json_t *report_json(const lg_result_t *r);
char *report_summary(const lg_result_t *r);
char *report_markdown(const lg_result_t *r);

/* "<YYYYmmddTHHMMSSZ>_<variant>_<workload>", names made file-safe. */
void report_basename(const lg_result_t *r, char *out, size_t cap);

/* Write DIR/<base>.json and DIR/<base>.md atomically: each to a temporary
 * file in DIR, fsync, then link(2) to its name, which fails instead of
 * overwriting: then <base>-2, -3, ... is tried. The final paths go to
 * json_path and md_path. Returns 0 or -errno with a message in err. */
int report_publish(const char *dir, const char *base, const char *json_text, const char *md_text,
                   char *json_path, char *md_path, size_t path_cap, char *err, size_t err_len);

/* Write text to path (replacing it) through a temporary file and rename,
 * or to stdout when path is "-". Returns 0 or -errno with a message. */
int report_write_file(const char *path, const char *text, char *err, size_t err_len);

#endif
