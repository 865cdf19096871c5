/* Reading one run: loadgen's report (schema_version 1, 2 or 3,
 * docs/REPORT.md) and run.sh's <report>.server.json beside it (schema 1,
 * without schema_version, or 2), into one struct of the figures the
 * reports use. A figure an older schema lacks is NaN, never a guess:
 * rps_error and calls_per_answer are schema 3's, the loadgen and slowapi
 * CPU figures server.json 2's. */
#ifndef LABREPORT_LOAD_H
#define LABREPORT_LOAD_H

#include <jansson.h>
#include <stddef.h>

#define LR_RUN_SCHEMA_MAX 3
#define LR_RESOURCES_SCHEMA_MAX 2

/* The report's percentiles, in its order: "50" ... "99.9", "100". */
#define LR_PCT_COUNT 9
extern const char *const lr_pct_keys[LR_PCT_COUNT];
extern const double lr_pct_values[LR_PCT_COUNT]; /* 50.0 ... 100.0 */

typedef struct lr_run {
    char name[256];     /* the report's file name, without its folder */
    json_t *json;       /* the report, owned */
    json_t *resources;  /* the .server.json beside it, owned, or NULL */
    int schema_version;
    const char *variant;    /* these point into json */
    const char *workload;
    const char *mode;       /* "unknown" when absent */
    const char *started_at; /* "unknown" when absent */
    long concurrency;
    double warmup_s;
    double window_s; /* summary.duration_s: the measured window */
    double delay_s;
    double rps;       /* the headline (schema 3: served share) */
    double rps_error; /* schema 3 */
    double ceiling_rps;
    double of_ceiling;
    double mean_ms;
    double max_ms;
    double pct_ms[LR_PCT_COUNT];
    double failures;
    double ok;
    int interrupted;
    /* schema 3's verify (NaN / "" without it) */
    double calls_per_answer;
    double calls_expected;
    char verify_verdict[16];
    /* from server.json (NaN without it) */
    double server_cpu_s;
    double server_peak_mib;
    double cpu_ms_per_request; /* server CPU ms / requests answered, warm-up included */
    double server_busy;        /* cpu / (wall x cpus), 0..1 (server.json 2) */
    double loadgen_busy;       /* the same for loadgen */
    double slowapi_busy;
} lr_run_t;

/* Read the report at path and, when it exists, path's .server.json.
 * Returns 0, or -1 with the reason in err (run is then empty). */
int lr_run_load(const char *path, lr_run_t *run, char *err, size_t err_len);

/* The same from parsed JSON, which run takes over (also on failure);
 * resources may be NULL. name is the report's file name. */
int lr_run_from_json(json_t *report, json_t *resources, const char *name, lr_run_t *run,
                     char *err, size_t err_len);

void lr_run_free(lr_run_t *run);

/* 1 when json looks like a run report (an object with "summary" and
 * "variant"), for folder scans that meet other JSON files. */
int lr_is_run_report(const json_t *json);

#endif
