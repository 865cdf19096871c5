/* The report: its JSON (schema in docs/REPORT.md) and the atomic,
 * never-overwriting publication of it and its Markdown in --out DIR. The
 * summary and the Markdown are rendered from the JSON, parsed back, by
 * lib/run_report.c, as a later rebuild from the file is. */
#ifndef LOADGEN_REPORT_H
#define LOADGEN_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "loadgen.h"
#include "run_check.h"
#include "slow_clients.h"
#include "verify.h"

#define LG_SCHEMA_VERSION 3
/* DIR/<name>.json exists: try <name>-2, -3, ... up to this. */
#define LG_PUBLISH_TRIES 1000

/* What the report is made of; filled by main after the run. */
typedef struct lg_result {
    const lg_config_t *cfg;
    const lg_stats_t *stats; /* all threads merged, samples sorted */
    long threads;
    double duration_s; /* the measured window (docs/REPORT.md) */
    double warmup_end_s, window_end_s; /* its edges, in s after the start */
    const json_t *server; /* the /healthz description, or NULL */
    const lg_verify_t *verify; /* --upstream's check, or NULL without it */
    const char *upstream_cpu_model; /* slowapi's, from its /healthz, or NULL */
    const lg_slow_result_t *slow; /* --slow-clients, or NULL without them */
    const char *variant;
    const char *workload;
    time_t started_at; /* wall clock when the load started */
    int interrupted; /* SIGINT/SIGTERM stopped the load early */
    int cpus;         /* CPUs loadgen may run on (its affinity mask) */
    int machine_cpus; /* CPUs online on the machine */
    char kernel[128];
    const run_check_list_t *checks; /* --check, or NULL */
    run_check_result_t *check_results; /* lg_report_json fills them (checks' count) */
    int *checks_failed;                /* and counts the failed ones there */
    const char *samples_path;          /* --samples, written before the report */
    size_t samples_rows;
} lg_result_t;

/* The upper bound an io run can reach: min(c, capacity) / delay; in an
 * open loop, no more than the offered rate either. */
typedef struct lg_ceiling {
    int known;
    double rps;
    double offered_rps; /* open loop: the plan's mean rate; 0 closed */
    double closed_rps;  /* min(c, capacity) / delay, whatever the rate: a step's
                         * expected rps is min(its rate, this) */
    long capacity; /* as configured or reported: 0 = unbounded */
    double measured_over_ceiling;
    char note[192]; /* why there is no ceiling */
} lg_ceiling_t;

/* JSON helpers of the report's builders (report.c, report_time.c): a
 * number rounded to decimals (null when not finite), an integer, and
 * json_object_set_new that remembers a failure instead of checking each. */
json_t *lg_jnum(double v, int decimals);
json_t *lg_jint(uint64_t v);
void lg_jset(json_t *obj, const char *key, json_t *value, int *failed);

/* The report's parts over time and over the latencies' whole range
 * (report_time.c), from the samples: the per-second series, the steps of
 * --rate R1,R2,... --step S (null otherwise), the wrk2-style percentile
 * spectrum of the latencies (null without a response) and, in an open
 * loop, how late requests were sent after their plan (null otherwise). */
json_t *lg_report_series_json(const lg_result_t *r, int *failed);
json_t *lg_report_steps_json(const lg_result_t *r, double closed_rps, int *failed);
json_t *lg_report_spectrum_json(const lg_result_t *r, int *failed);
json_t *lg_report_send_lag_json(const lg_result_t *r, int *failed);

/* The headline: served_in_window / window (phase.h, lg_window_count_ok). */
double lg_report_rps(const lg_result_t *r);
/* Schema 2's figure: ok_in_window / window. */
double lg_report_rps_time_share(const lg_result_t *r);
/* The headline's stated error: edge_error / window; it bounds
 * |lg_report_rps - lg_report_rps_time_share|. */
double lg_report_rps_error(const lg_result_t *r);
/* The window's length in mean latencies (docs/REPORT.md); 0: no answer. */
double lg_report_window_latencies(const lg_result_t *r);
void lg_report_ceiling(const lg_result_t *r, lg_ceiling_t *out);

/* A new reference, or NULL when out of memory. With checks, their
 * results are evaluated on the report itself and added to it (and to
 * r->check_results and *r->checks_failed). */
json_t *lg_report_json(const lg_result_t *r);

/* The JSON text as written (indented, ending in a newline; malloc'd) and
 * that text parsed back, which the summary and the Markdown are rendered
 * from (run_report.h). Returns 0, or -ENOMEM with both NULL. */
int lg_report_build(const lg_result_t *r, char **json_text, json_t **parsed);

/* "<YYYYmmddTHHMMSSZ>_<variant>_<workload>", names made file-safe. */
void lg_report_basename(const lg_result_t *r, char *out, size_t cap);

/* Write DIR/<base>.json and DIR/<base>.md atomically: each to a temporary
 * file in DIR, fsync, then link(2) to its name, which fails instead of
 * overwriting: then <base>-2, -3, ... is tried. md_text NULL
 * (--no-markdown): the JSON alone, under a name whose .md is free too
 * (md_path is then ""). The final paths go to json_path and md_path.
 * Returns 0 or -errno with a message in err. */
int lg_report_publish(const char *dir, const char *base, const char *json_text, const char *md_text,
                   char *json_path, char *md_path, size_t path_cap, char *err, size_t err_len);

/* Everything the run's report goes to: the summary on stdout (stderr when
 * --json -), --json FILE, --out DIR's JSON and Markdown. The JSON is
 * written first and parsed back; the summary and the Markdown are rendered
 * from that (lib/run_report.c), as labreport renders them from the file,
 * so a rebuild is byte-identical. Returns 0, or 1 when something could not
 * be written (said on stderr). */
int lg_report_write_all(const lg_result_t *res);

/* Write text to path (replacing it) through a temporary file and rename,
 * or to stdout when path is "-". Returns 0 or -errno with a message. */
int lg_report_write_file(const char *path, const char *text, char *err, size_t err_len);

#endif
