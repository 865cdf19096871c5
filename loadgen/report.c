#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "stats.h"

#define CEILING_FORMULA "min(concurrency, capacity) / delay_s"

static const char *const env_fields[][2] = {
    {"git_commit", "LAB_GIT_COMMIT"},
    {"docker_version", "LAB_DOCKER_VERSION"},
    {"compose_version", "LAB_COMPOSE_VERSION"},
    {"cpu_sharing", "LAB_CPUS"},
};
#define ENV_FIELD_COUNT (sizeof env_fields / sizeof env_fields[0])

static double ns_to_ms_d(uint64_t ns) { return (double)ns / 1e6; }

/* A sum over the window, per second of it (0 for an empty window). */
static double report_per_second(const lg_result_t *r, double sum)
{
    return r->duration_s > 0 ? sum / r->duration_s : 0;
}

double report_rps(const lg_result_t *r) { return report_per_second(r, r->stats->served_in_window); }

double report_rps_time_share(const lg_result_t *r)
{
    return report_per_second(r, r->stats->ok_in_window);
}

double report_rps_error(const lg_result_t *r) { return report_per_second(r, r->stats->edge_error); }

void report_ceiling(const lg_result_t *r, lg_ceiling_t *out)
{
    const lg_config_t *cfg = r->cfg;
    memset(out, 0, sizeof *out);
    if (cfg->delay_s <= 0) {
        snprintf(out->note, sizeof out->note,
                 "no --delay given: the ceiling needs the upstream delay");
        return;
    }
    if (strcmp(r->workload, "io") != 0) {
        if (strcmp(r->workload, "cpu") == 0)
            snprintf(out->note, sizeof out->note,
                     "cpu workload: bound by CPU time, not computed");
        else
            snprintf(out->note, sizeof out->note,
                     "%s workload: the ceiling is computed for the io workload only",
                     r->workload);
        return;
    }
    long capacity = cfg->capacity;
    if (capacity < 0) {
        json_t *cap = r->server ? json_object_get(r->server, "capacity") : NULL;
        if (json_is_integer(cap) && json_integer_value(cap) >= 0 &&
            json_integer_value(cap) <= LONG_MAX)
            capacity = (long)json_integer_value(cap);
    }
    if (capacity < 0) {
        snprintf(out->note, sizeof out->note,
                 "capacity unknown: no --capacity and no \"capacity\" in the server's /healthz");
        return;
    }
    long served = capacity == 0 || capacity > cfg->connections ? cfg->connections : capacity;
    out->known = 1;
    out->capacity = capacity;
    out->rps = (double)served / cfg->delay_s;
    out->measured_over_ceiling = report_rps(r) / out->rps;
}

/* A JSON number rounded to `decimals` places (JSON has no NaN: null). */
static json_t *jnum(double v, int decimals)
{
    if (!isfinite(v))
        return json_null();
    double scale = pow(10, decimals);
    return json_real(round(v * scale) / scale);
}

static json_t *jstr_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *jint(uint64_t v) { return json_integer((json_int_t)v); }

/* json_object_set_new that remembers a failure instead of checking each. */
static void jset(json_t *obj, const char *key, json_t *value, int *failed)
{
    if (value == NULL || json_object_set_new(obj, key, value) < 0)
        *failed = 1;
}

static void format_started(const lg_result_t *r, const char *fmt, char *out, size_t cap)
{
    struct tm tm;
    if (gmtime_r(&r->started_at, &tm) == NULL || strftime(out, cap, fmt, &tm) == 0)
        snprintf(out, cap, "unknown");
}

static json_t *json_config(const lg_result_t *r, int *failed)
{
    const lg_config_t *cfg = r->cfg;
    json_t *o = json_object();
    if (o == NULL) {
        *failed = 1;
        return NULL;
    }
    jset(o, "protocol", json_string(cfg->grpc ? "grpc" : "http"), failed);
    jset(o, "concurrency", json_integer(cfg->connections), failed);
    jset(o, "threads", json_integer(r->threads), failed);
    jset(o, "duration_s", cfg->requests > 0 ? json_null() : jnum(cfg->duration_s, 3), failed);
    jset(o, "requests", cfg->requests > 0 ? json_integer(cfg->requests) : json_null(), failed);
    jset(o, "warmup_s", jnum(cfg->warmup_s, 3), failed);
    jset(o, "drain_s", jnum(cfg->drain_s, 3), failed);
    jset(o, "ramp_s", jnum(cfg->ramp_s, 3), failed);
    jset(o, "keepalive", json_boolean(cfg->keepalive), failed);
    jset(o, "fanout", cfg->fanout >= 0 ? json_integer(cfg->fanout) : json_null(), failed);
    jset(o, "delay_s", cfg->delay_s > 0 ? jnum(cfg->delay_s, 6) : json_null(), failed);
    jset(o, "timeout_s", jnum(cfg->timeout_s, 3), failed);
    jset(o, "capacity", cfg->capacity >= 0 ? json_integer(cfg->capacity) : json_null(), failed);
    jset(o, "upstream", jstr_or_null(cfg->upstream_text), failed);
    return o;
}

static json_t *json_summary(const lg_result_t *r, int *failed)
{
    const lg_stats_t *s = r->stats;
    const lg_buckets_t *b = &s->buckets;
    json_t *o = json_object(), *http = json_object(), *errors = json_object();
    if (o == NULL || http == NULL || errors == NULL) {
        json_decref(o);
        json_decref(http);
        json_decref(errors);
        *failed = 1;
        return NULL;
    }
    for (int status = 0; status < LG_STATUS_MAX; status++) {
        if (b->http_status[status] == 0)
            continue;
        char key[16];
        snprintf(key, sizeof key, "%d", status);
        jset(http, key, jint(b->http_status[status]), failed);
    }
    for (int i = 0; i < LG_ERR_KINDS; i++)
        jset(errors, lg_err_names[i], jint(b->errors[i]), failed);
    int have = s->count > 0 || s->samples_dropped > 0;
    uint64_t responses = s->count + s->samples_dropped;
    jset(o, "issued", jint(b->issued), failed);
    jset(o, "ok", jint(b->ok), failed);
    jset(o, "failures", jint(buckets_failures(b)), failed);
    jset(o, "http_errors", http, failed);
    jset(o, "timeouts", jint(b->timeouts), failed);
    jset(o, "unfinished", jint(b->unfinished), failed);
    jset(o, "warmup_excluded", jint(b->warmup_excluded), failed);
    jset(o, "errors", errors, failed);
    jset(o, "rps", jnum(report_rps(r), 3), failed);
    jset(o, "rps_error", jnum(report_rps_error(r), 3), failed);
    jset(o, "rps_time_share", jnum(report_rps_time_share(r), 3), failed);
    jset(o, "ok_in_window", jnum(s->ok_in_window, 3), failed);
    jset(o, "served_in_window", jnum(s->served_in_window, 3), failed);
    jset(o, "service_s", r->cfg->service_s > 0 ? jnum(r->cfg->service_s, 6) : json_null(), failed);
    jset(o, "window_latencies", jnum(report_window_latencies(r), 2), failed);
    jset(o, "mean_ms", have ? jnum(ns_to_ms_d(s->sum_ns) / (double)responses, 3) : json_null(),
         failed);
    jset(o, "min_ms", have ? jnum(ns_to_ms_d(s->min_ns), 3) : json_null(), failed);
    jset(o, "max_ms", have ? jnum(ns_to_ms_d(s->max_ns), 3) : json_null(), failed);
    jset(o, "duration_s", jnum(r->duration_s, 3), failed);
    jset(o, "responses", jint(responses), failed);
    jset(o, "samples_dropped", jint(s->samples_dropped), failed);
    jset(o, "interrupted", json_boolean(r->interrupted), failed);
    return o;
}

static json_t *json_percentiles(const lg_result_t *r, int *failed)
{
    if (r->stats->count == 0)
        return json_null();
    json_t *o = json_object();
    if (o == NULL) {
        *failed = 1;
        return NULL;
    }
    for (int i = 0; i < LG_PERCENTILE_COUNT; i++)
        jset(o, lg_percentiles[i].label,
             jnum(ns_to_ms_d(stats_percentile_ns(r->stats, lg_percentiles[i].per_mille)), 3),
             failed);
    return o;
}

static json_t *json_environment(const lg_result_t *r, int *failed)
{
    json_t *o = json_object();
    if (o == NULL) {
        *failed = 1;
        return NULL;
    }
    char started[32];
    format_started(r, "%Y-%m-%dT%H:%M:%SZ", started, sizeof started);
    jset(o, "cpus", json_integer(r->cpus), failed);
    jset(o, "machine_cpus", json_integer(r->machine_cpus), failed);
    jset(o, "kernel", json_string(r->kernel), failed);
    jset(o, "started_at", json_string(started), failed);
    for (size_t i = 0; i < ENV_FIELD_COUNT; i++) {
        const char *v = getenv(env_fields[i][1]);
        jset(o, env_fields[i][0], jstr_or_null(v && *v ? v : NULL), failed);
    }
    return o;
}

/* How many mean latencies the window holds (0: no answer). The time share
 * credits a request in flight at the window's end for time it spent
 * queued: with N latencies in the window it can read high by up to about
 * 1/N. The summary says so when there is no served share (no --delay). */
double report_window_latencies(const lg_result_t *r)
{
    const lg_stats_t *s = r->stats;
    uint64_t responses = s->count + s->samples_dropped;
    if (responses == 0 || s->sum_ns == 0 || r->duration_s <= 0)
        return 0;
    double mean_s = (double)s->sum_ns / (double)responses / 1e9;
    return r->duration_s / mean_s;
}

static json_t *json_verify(const lg_verify_t *v, int *failed)
{
    json_t *o = json_object();
    if (o == NULL) {
        *failed = 1;
        return NULL;
    }
    jset(o, "upstream_calls", v->counted ? json_integer(v->upstream_calls) : json_null(), failed);
    jset(o, "answered", jint(v->answered), failed);
    jset(o, "calls_per_answer",
         v->calls_per_answer >= 0 ? jnum(v->calls_per_answer, 2) : json_null(), failed);
    jset(o, "expected", v->expected >= 0 ? json_integer(v->expected) : json_null(), failed);
    jset(o, "verdict", json_string(v->verdict), failed);
    jset(o, "note", v->note[0] ? json_string(v->note) : json_null(), failed);
    return o;
}

json_t *report_json(const lg_result_t *r)
{
    int failed = 0;
    json_t *root = json_object();
    if (root == NULL)
        return NULL;
    lg_ceiling_t ceiling;
    report_ceiling(r, &ceiling);
    jset(root, "schema_version", json_integer(LG_SCHEMA_VERSION), &failed);
    jset(root, "variant", json_string(r->variant), &failed);
    jset(root, "workload", json_string(r->workload), &failed);
    jset(root, "mode", json_string(r->cfg->mode), &failed);
    jset(root, "url", json_string(r->cfg->url_text), &failed);
    jset(root, "config", json_config(r, &failed), &failed);
    jset(root, "summary", json_summary(r, &failed), &failed);
    jset(root, "percentiles_ms", json_percentiles(r, &failed), &failed);
    if (ceiling.known) {
        json_t *c = json_object();
        if (c != NULL) {
            jset(c, "rps", jnum(ceiling.rps, 3), &failed);
            jset(c, "capacity", json_integer(ceiling.capacity), &failed);
            jset(c, "formula", json_string(CEILING_FORMULA), &failed);
            jset(c, "measured_over_ceiling", jnum(ceiling.measured_over_ceiling, 4), &failed);
        }
        jset(root, "ceiling", c, &failed);
    } else {
        jset(root, "ceiling", json_null(), &failed);
        jset(root, "ceiling_note", json_string(ceiling.note), &failed);
    }
    jset(root, "verify", r->verify ? json_verify(r->verify, &failed) : json_null(), &failed);
    jset(root, "server", r->server ? json_deep_copy(r->server) : json_null(), &failed);
    jset(root, "environment", json_environment(r, &failed), &failed);
    if (failed) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int report_build(const lg_result_t *r, char **json_text, json_t **parsed)
{
    *json_text = NULL;
    *parsed = NULL;
    json_t *json = report_json(r);
    char *text = json ? json_dumps(json, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(json);
    if (text == NULL)
        return -ENOMEM;
    size_t len = strlen(text);
    char *with_nl = realloc(text, len + 2);
    if (with_nl == NULL) {
        free(text);
        return -ENOMEM;
    }
    memcpy(with_nl + len, "\n", 2);
    /* What a reader of the file gets: rendering from this, not from the
     * object above, makes a rebuild from the file byte-identical (reals
     * are written with 15 digits, and JSON has lost nothing else). */
    *parsed = json_loads(with_nl, 0, NULL);
    if (*parsed == NULL) {
        free(with_nl);
        return -ENOMEM;
    }
    *json_text = with_nl;
    return 0;
}

static void safe_name(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; in != NULL && *in != '\0' && n + 1 < cap; in++) {
        char c = *in;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-';
        out[n++] = ok ? c : '-';
    }
    out[n] = '\0';
    if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        snprintf(out, cap, "unknown");
}

void report_basename(const lg_result_t *r, char *out, size_t cap)
{
    char stamp[32], variant[64], workload[64];
    format_started(r, "%Y%m%dT%H%M%SZ", stamp, sizeof stamp);
    safe_name(r->variant, variant, sizeof variant);
    safe_name(r->workload, workload, sizeof workload);
    snprintf(out, cap, "%s_%s_%s", stamp, variant, workload);
}

static int io_fail(char *err, size_t err_len, const char *call, const char *path, int rc)
{
    snprintf(err, err_len, "%s(%s): %s", call, path, strerror(-rc));
    return rc;
}

/* Write text to a new temporary file for dir/base (tmp receives its path),
 * durably (lib/atomic_file.h). Returns 0 or -errno (no file is left). */
static int write_temp(const char *dir, const char *base, const char *text, char *tmp,
                      size_t tmp_cap, char *err, size_t err_len)
{
    char stem[PATH_MAX];
    int n = snprintf(stem, sizeof stem, "%s/%s", dir, base);
    if (n < 0 || (size_t)n >= sizeof stem)
        return io_fail(err, err_len, "mkstemp", dir, -ENAMETOOLONG);
    return afile_temp(stem, text, 1, tmp, tmp_cap, err, err_len);
}

/* Give the .md its name beside the .json just linked: link(2) its
 * temporary file; without Markdown (md_tmp ""), only check that the name
 * is free, because the pair must share a name when the .md is rendered
 * there later (run.sh, with the resources). Returns 0 or -errno. */
static int publish_md(const char *md_tmp, const char *md_path)
{
    if (md_tmp[0] != '\0')
        return link(md_tmp, md_path) < 0 ? -errno : 0;
    struct stat st;
    if (lstat(md_path, &st) == 0)
        return -EEXIST;
    return errno == ENOENT ? 0 : -errno;
}

int report_publish(const char *dir, const char *base, const char *json_text, const char *md_text,
                   char *json_path, char *md_path, size_t path_cap, char *err, size_t err_len)
{
    char json_tmp[PATH_MAX], md_tmp[PATH_MAX] = "";
    int rc = write_temp(dir, base, json_text, json_tmp, sizeof json_tmp, err, err_len);
    if (rc < 0)
        return rc;
    if (md_text != NULL)
        rc = write_temp(dir, base, md_text, md_tmp, sizeof md_tmp, err, err_len);
    if (rc < 0) {
        (void)unlink(json_tmp);
        return rc;
    }
    rc = -EEXIST;
    for (int k = 1; k <= LG_PUBLISH_TRIES && rc == -EEXIST; k++) {
        char suffix[16] = "";
        if (k > 1)
            snprintf(suffix, sizeof suffix, "-%d", k);
        int a = snprintf(json_path, path_cap, "%s/%s%s.json", dir, base, suffix);
        int b = snprintf(md_path, path_cap, "%s/%s%s.md", dir, base, suffix);
        if (a < 0 || (size_t)a >= path_cap || b < 0 || (size_t)b >= path_cap) {
            rc = io_fail(err, err_len, "link", dir, -ENAMETOOLONG);
            break;
        }
        /* link(2) never replaces an existing name: EEXIST means taken. */
        if (link(json_tmp, json_path) < 0) {
            rc = -errno;
            if (rc != -EEXIST)
                io_fail(err, err_len, "link", json_path, rc);
            continue;
        }
        if ((rc = publish_md(md_tmp, md_path)) < 0) {
            if (rc != -EEXIST)
                io_fail(err, err_len, "link", md_path, rc);
            /* Our own link of a moment ago: take it back, keep the pair. */
            (void)unlink(json_path);
            continue;
        }
        rc = 0;
    }
    if (rc == -EEXIST)
        io_fail(err, err_len, "link", base, rc);
    (void)unlink(json_tmp);
    if (md_text != NULL)
        (void)unlink(md_tmp);
    else
        md_path[0] = '\0';
    if (rc == 0)
        rc = afile_sync_dir(dir, err, err_len);
    return rc;
}

int report_write_file(const char *path, const char *text, char *err, size_t err_len)
{
    if (strcmp(path, "-") == 0) {
        if (fputs(text, stdout) == EOF || fflush(stdout) == EOF)
            return io_fail(err, err_len, "write", "stdout", -EIO);
        return 0;
    }
    return afile_replace(path, text, 1, err, err_len);
}
