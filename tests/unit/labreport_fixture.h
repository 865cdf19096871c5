/* Fixtures for labreport's unit tests: a temporary folder, and run
 * reports and resources files of each schema, made with jansson (small,
 * but with every field lib/run_report.c renders). Header-only: static
 * inline, so a test that uses part of it builds without warnings. */
#ifndef TEST_LABREPORT_FIXTURE_H
#define TEST_LABREPORT_FIXTURE_H

#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int lrf_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void lrf_rmtree(const char *dir)
{
    (void)nftw(dir, lrf_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new empty folder under $TMPDIR (or /tmp); 0 or -1. */
static inline int lrf_tempdir(char *out, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(out, cap, "%s/test_labreport_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return mkdtemp(out) ? 0 : -1;
}

/* A test's fixture whose first member is its folder, char dir[PATH_MAX]:
 * allocated zeroed, with that folder made (NULL on failure). */
static inline void *lrf_fixture_new(size_t size)
{
    char *f = size >= PATH_MAX ? calloc(1, size) : NULL;
    if (f != NULL && lrf_tempdir(f, PATH_MAX) < 0) {
        free(f);
        return NULL;
    }
    return f;
}

/* cmocka's teardown of such a fixture: the folder and all in it, then the
 * fixture (a pointer to a struct is one to its first member). */
static inline int lrf_teardown(void **state)
{
    lrf_rmtree(*state);
    free(*state);
    return 0;
}

static inline int lrf_write(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return -1;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int rc = fputs(text, f) == EOF ? -1 : 0;
    if (fclose(f) == EOF)
        rc = -1;
    return rc;
}

/* Writes json (taken over) as dir/name. */
static inline int lrf_write_json(const char *dir, const char *name, json_t *json)
{
    char *text = json ? json_dumps(json, JSON_INDENT(2)) : NULL;
    json_decref(json);
    int rc = text ? lrf_write(dir, name, text) : -1;
    free(text);
    return rc;
}

/* Reads dir/name into a malloc'd string; NULL when missing. */
static inline char *lrf_read(const char *dir, const char *name, size_t *len)
{
    char path[PATH_MAX];
    int w = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (w < 0 || (size_t)w >= sizeof path)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *data = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *grown = realloc(data, cap);
            if (grown == NULL) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
        }
        size_t got = fread(data + n, 1, 4096, f);
        n += got;
        if (got < 4096)
            break;
    }
    fclose(f);
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

/* A run report of schema 1, 2 or 3: c clients, 1 s delay, io, capacity
 * unbounded; rps, the mean latency and the failures as given. */
static inline json_t *lrf_run(int schema, const char *variant, long c, double rps,
                              double mean_ms, long failures)
{
    json_t *pct = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "50", mean_ms - 2,
                            "60", mean_ms - 1, "70", mean_ms, "80", mean_ms + 1, "90",
                            mean_ms + 3, "95", mean_ms + 5, "99", mean_ms + 40, "99.9",
                            mean_ms + 60, "100", mean_ms + 70);
    json_t *summary = json_pack(
        "{s:i, s:i, s:i, s:{}, s:i, s:i, s:i, s:{s:i, s:i, s:i, s:i}, s:f, s:f, s:f, s:f, "
        "s:f, s:f, s:i, s:i, s:b}",
        "issued", (int)3000, "ok", (int)(3000 - failures), "failures",
        (int)failures, "http_errors", "timeouts", (int)failures, "unfinished",
        (int)0, "warmup_excluded", (int)0, "errors", "connect", 0, "read", 0,
        "write", 0, "parse", 0, "rps", rps, "ok_in_window", rps * 30, "mean_ms", mean_ms,
        "min_ms", mean_ms - 3, "max_ms", mean_ms + 70, "duration_s", 30.0, "responses",
        (int)3000, "samples_dropped", (int)0, "interrupted", 0);
    if (schema >= 3) {
        json_object_set_new(summary, "rps_error", json_real(0.4));
        json_object_set_new(summary, "rps_time_share", json_real(rps + 0.1));
        json_object_set_new(summary, "served_in_window", json_real(rps * 30));
        json_object_set_new(summary, "service_s", json_real(1.0));
    }
    if (schema == 1)
        json_object_del(summary, "ok_in_window");
    json_t *run = json_pack(
        "{s:i, s:s, s:s, s:s, s:s, s:{s:s, s:i, s:i, s:f, s:n, s:f, s:f, s:f, s:b, s:i, s:f, "
        "s:f, s:n}, s:o, s:o, s:{s:f, s:i, s:s, s:f}, s:{s:s, s:s, s:s, s:i, s:b}, "
        "s:{s:i, s:i, s:s, s:s, s:s, s:n, s:n, s:n}}",
        "schema_version", schema, "variant", variant, "workload", "io", "mode", "native", "url",
        "http://127.0.0.1:3000/io", "config", "protocol", "http", "concurrency", (int)c,
        "threads", 1, "duration_s", 30.0, "requests", "warmup_s", 0.0, "drain_s", 5.0, "ramp_s",
        0.0, "keepalive", 1, "fanout", 10, "delay_s", 1.0, "timeout_s", 30.0, "capacity",
        "summary", summary, "percentiles_ms", pct, "ceiling", "rps", (double)c, "capacity", 0,
        "formula", "min(concurrency, capacity) / delay_s", "measured_over_ceiling",
        rps / (double)c, "server", "status", "ok", "variant", variant, "model", "a model",
        "capacity", 0, "keep_alive", 1, "environment", "cpus", 1, "machine_cpus", 2, "kernel",
        "6.1", "started_at", "2026-11-30T12:00:00Z", "git_commit", "abc1234", "docker_version",
        "compose_version", "cpu_sharing");
    if (schema >= 3) {
        json_object_set_new(json_object_get(run, "config"), "upstream",
                            json_string("http://127.0.0.1:8001"));
        json_object_set_new(run, "verify",
                            json_pack("{s:i, s:i, s:f, s:i, s:s, s:n}", "upstream_calls",
                                      (int)27300, "answered", (int)3000,
                                      "calls_per_answer", 9.1, "expected", 10, "verdict",
                                      "short", "note"));
    }
    return run;
}

/* A resources file: schema 1 (no schema_version, no helpers) or 2 (with
 * loadgen and slowapi over a 30 s wall on one CPU each). */
static inline json_t *lrf_server(int schema, double cpu_s, double loadgen_cpu_s)
{
    json_t *s = json_pack("{s:s, s:s, s:f, s:f, s:s}", "variant", "v", "workload", "io",
                          "cpu_seconds", cpu_s, "peak_memory_mib", 30.5, "measured", "test");
    if (schema >= 2) {
        json_object_set_new(s, "schema_version", json_integer(2));
        json_object_set_new(s, "wall_seconds", json_real(30.0));
        json_object_set_new(s, "cpus", json_integer(1));
        json_object_set_new(s, "loadgen", json_pack("{s:f, s:f, s:i}", "cpu_seconds",
                                                    loadgen_cpu_s, "wall_seconds", 30.0,
                                                    "cpus", 1));
        json_object_set_new(s, "slowapi", json_pack("{s:f, s:f, s:i}", "cpu_seconds", 3.0,
                                                    "wall_seconds", 30.0, "cpus", 1));
    }
    return s;
}

/* A point of a plan: planned, or skipped with its reason. */
static inline json_t *lrf_plan_point(int index, const char *variant, long c, int repeat,
                                     const char *status, const char *reason)
{
    return json_pack("{s:i, s:s, s:i, s:i, s:s, s:s?}", "index", index, "variant", variant,
                     "concurrency", (int)c, "repeat", repeat, "status", status, "reason", reason);
}

/* A plan of the io workload at c=100 (taken over: points, variants, a
 * {"concurrency": [...]} sweep or NULL). Each variant {name, program,
 * model, classic}: lrf_variant. */
static inline json_t *lrf_plan(json_t *points, json_t *variants, json_t *sweep, int repeat)
{
    return json_pack(
        "{s:i, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i, s:n, s:i, s:i, s:i, s:i, s:s, s:i}, "
        "s:o, s:o, s:i, s:o}",
        "schema_version", 1, "kind", "matrix-plan", "workload", "io", "mode", "native",
        "created_at", "2026-11-30T12:00:00Z", "command", "./run.sh all io --repeat 2",
        "settings", "concurrency", 100, "duration_s", 30, "requests", "fanout", 10, "delay_s", 1,
        "timeout_s", 30, "warmup_s", 0, "upstream_http", "1.1", "upstream_timeout_s", 5,
        "variants", variants, "sweep", sweep ? sweep : json_null(), "repeat", repeat, "points",
        points);
}

static inline json_t *lrf_variant(const char *name, const char *program, const char *model,
                                  const char *classic)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "name", name, "program", program, "model", model,
                     "classic", classic);
}

/* A done point in dir: points/NNN.json (dir/points must exist), its run's
 * report (run, taken over) and, unless NULL, its resources file (server,
 * taken over). 0 or -1. */
static inline int lrf_done_point(const char *dir, int index, json_t *run, json_t *server,
                                 double elapsed_s)
{
    char name[64], server_name[80], points[PATH_MAX];
    snprintf(name, sizeof name, "20261130T12%02d00Z_%s_io.json", index,
             json_string_value(json_object_get(run, "variant")));
    snprintf(server_name, sizeof server_name, "%.*s.server.json", (int)strlen(name) - 5, name);
    json_t *point = json_pack("{s:i, s:O, s:O, s:i, s:s, s:s, s:n, s:f}", "index", index,
                              "variant", json_object_get(run, "variant"), "concurrency",
                              json_object_get(json_object_get(run, "config"), "concurrency"),
                              "repeat", 1, "status", "done", "report", name, "reason",
                              "elapsed_s", elapsed_s);
    int rc = lrf_write_json(dir, name, run);
    if (server != NULL && lrf_write_json(dir, server_name, server) < 0)
        rc = -1;
    snprintf(points, sizeof points, "%s/points", dir);
    snprintf(name, sizeof name, "%03d.json", index);
    return lrf_write_json(points, name, point) < 0 ? -1 : rc;
}

#endif
