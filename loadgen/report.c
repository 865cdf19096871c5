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
#include "cpu_model.h"
#include "run_report.h"
#include "url.h"
#include "stats.h"

#define CEILING_FORMULA "min(concurrency, capacity) / delay_s"
#define CEILING_FORMULA_OPEN "min(rate, min(concurrency, capacity) / delay_s)"

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

double lg_report_rps(const lg_result_t *r)
{
    return report_per_second(r, r->stats->served_in_window);
}

double lg_report_rps_time_share(const lg_result_t *r)
{
    return report_per_second(r, r->stats->ok_in_window);
}

double lg_report_rps_error(const lg_result_t *r)
{
    return report_per_second(r, r->stats->edge_error);
}

void lg_report_ceiling(const lg_result_t *r, lg_ceiling_t *out)
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
    out->rps = out->closed_rps = (double)served / cfg->delay_s;
    if (cfg->rate_text != NULL) {
        out->offered_rps = lg_schedule_mean_rate(&cfg->schedule);
        if (out->offered_rps < out->rps)
            out->rps = out->offered_rps;
    }
    out->measured_over_ceiling = lg_report_rps(r) / out->rps;
}

/* A JSON number rounded to `decimals` places (JSON has no NaN: null). */
json_t *lg_jnum(double v, int decimals)
{
    if (!isfinite(v))
        return json_null();
    double scale = pow(10, decimals);
    return json_real(round(v * scale) / scale);
}

static json_t *jstr_or_null(const char *s) { return s ? json_string(s) : json_null(); }

json_t *lg_jint(uint64_t v) { return json_integer((json_int_t)v); }

/* json_object_set_new that remembers a failure instead of checking each. */
void lg_jset(json_t *obj, const char *key, json_t *value, int *failed)
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

/* config.rate: the open loop's plan, as given and as parsed. */
static json_t *json_rate(const lg_config_t *cfg, int *failed)
{
    if (cfg->rate_text == NULL)
        return json_null();
    const lg_schedule_t *s = &cfg->schedule;
    json_t *o = json_object(), *rates = json_array();
    if (o == NULL || rates == NULL) {
        json_decref(o);
        json_decref(rates);
        *failed = 1;
        return NULL;
    }
    for (size_t i = 0; i < s->count; i++) {
        if (json_array_append_new(rates, lg_jnum(s->rates[i], 3)) < 0)
            *failed = 1;
    }
    lg_jset(o, "text", json_string(s->text), failed);
    lg_jset(o, "schedule", json_string(lg_schedule_kind_name(s)), failed);
    lg_jset(o, "rates", rates, failed);
    lg_jset(o, "ramp_s", s->kind == LG_RATE_RAMP ? lg_jnum(s->ramp_s, 3) : json_null(), failed);
    lg_jset(o, "step_s", s->kind == LG_RATE_STEPS ? lg_jnum(s->step_s, 3) : json_null(), failed);
    return o;
}

static json_t *json_config(const lg_result_t *r, int *failed)
{
    const lg_config_t *cfg = r->cfg;
    json_t *o = json_object();
    if (o == NULL) {
        *failed = 1;
        return NULL;
    }
    lg_jset(o, "protocol", json_string(cfg->grpc ? "grpc" : "http"), failed);
    lg_jset(o, "concurrency", json_integer(cfg->connections), failed);
    lg_jset(o, "threads", json_integer(r->threads), failed);
    lg_jset(o, "duration_s", cfg->requests > 0 ? json_null() : lg_jnum(cfg->duration_s, 3), failed);
    lg_jset(o, "requests", cfg->requests > 0 ? json_integer(cfg->requests) : json_null(), failed);
    lg_jset(o, "warmup_s", lg_jnum(cfg->warmup_s, 3), failed);
    lg_jset(o, "drain_s", lg_jnum(cfg->drain_s, 3), failed);
    lg_jset(o, "ramp_s", lg_jnum(cfg->ramp_s, 3), failed);
    lg_jset(o, "keepalive", json_boolean(cfg->keepalive), failed);
    lg_jset(o, "fanout", cfg->fanout >= 0 ? json_integer(cfg->fanout) : json_null(), failed);
    lg_jset(o, "delay_s", cfg->delay_s > 0 ? lg_jnum(cfg->delay_s, 6) : json_null(), failed);
    lg_jset(o, "timeout_s", lg_jnum(cfg->timeout_s, 3), failed);
    lg_jset(o, "capacity", cfg->capacity >= 0 ? json_integer(cfg->capacity) : json_null(), failed);
    lg_jset(o, "upstream", jstr_or_null(cfg->upstream_text), failed);
    lg_jset(o, "load", json_string(cfg->rate_text ? "open" : "closed"), failed);
    lg_jset(o, "rate", json_rate(cfg, failed), failed);
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
        lg_jset(http, key, lg_jint(b->http_status[status]), failed);
    }
    for (int i = 0; i < LG_ERR_KINDS; i++)
        lg_jset(errors, lg_err_names[i], lg_jint(b->errors[i]), failed);
    int have = s->count > 0;
    uint64_t responses = s->count;
    int open = r->cfg->rate_text != NULL;
    lg_jset(o, "issued", lg_jint(b->issued), failed);
    lg_jset(o, "ok", lg_jint(b->ok), failed);
    lg_jset(o, "failures", lg_jint(lg_buckets_failures(b)), failed);
    lg_jset(o, "http_errors", http, failed);
    lg_jset(o, "timeouts", lg_jint(b->timeouts), failed);
    lg_jset(o, "unfinished", lg_jint(b->unfinished), failed);
    lg_jset(o, "warmup_excluded", lg_jint(b->warmup_excluded), failed);
    lg_jset(o, "errors", errors, failed);
    lg_jset(o, "rps", lg_jnum(lg_report_rps(r), 3), failed);
    lg_jset(o, "rps_error", lg_jnum(lg_report_rps_error(r), 3), failed);
    lg_jset(o, "rps_time_share", lg_jnum(lg_report_rps_time_share(r), 3), failed);
    lg_jset(o, "ok_in_window", lg_jnum(s->ok_in_window, 3), failed);
    lg_jset(o, "served_in_window", lg_jnum(s->served_in_window, 3), failed);
    lg_jset(o, "service_s", r->cfg->service_s > 0 ? lg_jnum(r->cfg->service_s, 6) : json_null(),
            failed);
    lg_jset(o, "window_latencies", lg_jnum(lg_report_window_latencies(r), 2), failed);
    lg_jset(o, "mean_ms", have ? lg_jnum(ns_to_ms_d(s->sum_ns) / (double)responses, 3) : json_null(),
         failed);
    lg_jset(o, "min_ms", have ? lg_jnum(ns_to_ms_d(s->min_ns), 3) : json_null(), failed);
    lg_jset(o, "max_ms", have ? lg_jnum(ns_to_ms_d(s->max_ns), 3) : json_null(), failed);
    lg_jset(o, "duration_s", lg_jnum(r->duration_s, 3), failed);
    lg_jset(o, "responses", lg_jint(responses), failed);
    lg_jset(o, "samples_dropped", lg_jint(s->samples_dropped), failed);
    lg_jset(o, "interrupted", json_boolean(r->interrupted), failed);
    lg_jset(o, "planned", open ? lg_jint(b->planned) : json_null(), failed);
    lg_jset(o, "late", open ? lg_jint(b->late) : json_null(), failed);
    lg_jset(o, "mean_uncorrected_ms",
            open && have ? lg_jnum(ns_to_ms_d(s->sum_uncorrected_ns) / (double)responses, 3)
                         : json_null(),
            failed);
    lg_jset(o, "send_lag_ms", lg_report_send_lag_json(r, failed), failed);
    return o;
}

static json_t *json_percentiles(const lg_result_t *r, int corrected, int *failed)
{
    if (r->stats->latency_count == 0)
        return json_null();
    json_t *o = json_object();
    if (o == NULL) {
        *failed = 1;
        return NULL;
    }
    for (int i = 0; i < LG_PERCENTILE_COUNT; i++) {
        unsigned pm = lg_percentiles[i].per_mille;
        uint64_t ns = corrected ? lg_stats_percentile_ns(r->stats, pm)
                                : lg_stats_percentile_uncorrected_ns(r->stats, pm);
        lg_jset(o, lg_percentiles[i].label, lg_jnum(ns_to_ms_d(ns), 3), failed);
    }
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
    lg_jset(o, "cpus", json_integer(r->cpus), failed);
    lg_jset(o, "machine_cpus", json_integer(r->machine_cpus), failed);
    lg_jset(o, "kernel", json_string(r->kernel), failed);
    char model[128];
    (void)cpu_model(model, sizeof model);
    lg_jset(o, "cpu_model", json_string(model), failed);
    lg_jset(o, "upstream_cpu_model", jstr_or_null(r->upstream_cpu_model), failed);
    lg_jset(o, "started_at", json_string(started), failed);
    for (size_t i = 0; i < ENV_FIELD_COUNT; i++) {
        const char *v = getenv(env_fields[i][1]);
        lg_jset(o, env_fields[i][0], jstr_or_null(v && *v ? v : NULL), failed);
    }
    return o;
}

/* How many mean latencies the window holds (0: no answer). The time share
 * credits a request in flight at the window's end for time it spent
 * queued: with N latencies in the window it can read high by up to about
 * 1/N. The summary says so when there is no served share (no --delay). */
double lg_report_window_latencies(const lg_result_t *r)
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
    lg_jset(o, "upstream_calls", v->counted ? json_integer(v->upstream_calls) : json_null(),
            failed);
    lg_jset(o, "answered", lg_jint(v->answered), failed);
    /* The readings themselves: several loadgens' reports of one run are
     * merged from the earliest before and the latest after. */
    if (v->counted) {
        lg_jset(o, "calls_before", json_integer(v->calls_before), failed);
        lg_jset(o, "calls_after", json_integer(v->calls_after), failed);
    }
    lg_jset(o, "calls_per_answer",
         v->calls_per_answer >= 0 ? lg_jnum(v->calls_per_answer, 2) : json_null(), failed);
    lg_jset(o, "expected", v->expected >= 0 ? json_integer(v->expected) : json_null(), failed);
    lg_jset(o, "verdict", json_string(v->verdict), failed);
    lg_jset(o, "note", v->note[0] ? json_string(v->note) : json_null(), failed);
    return o;
}

/* --slow-clients: what they saw, and the /healthz probe beside them. */
static json_t *json_slow_clients(const lg_slow_result_t *sl, int *failed)
{
    json_t *o = json_object(), *probe = sl->probed ? json_object() : json_null();
    if (o == NULL || probe == NULL) {
        json_decref(o);
        json_decref(probe);
        *failed = 1;
        return NULL;
    }
    lg_jset(o, "count", json_integer(sl->count), failed);
    lg_jset(o, "interval_s", lg_jnum(sl->interval_s, 3), failed);
    lg_jset(o, "connected_at_start", json_integer(sl->connected_at_start), failed);
    lg_jset(o, "held_at_end", json_integer(sl->held_at_end), failed);
    lg_jset(o, "connects", lg_jint(sl->connects), failed);
    lg_jset(o, "connect_errors", lg_jint(sl->connect_errors), failed);
    lg_jset(o, "closed_by_server", lg_jint(sl->closed_by_server), failed);
    lg_jset(o, "answered_408", lg_jint(sl->status_408), failed);
    lg_jset(o, "answered_431", lg_jint(sl->status_431), failed);
    lg_jset(o, "answered_other", lg_jint(sl->status_other), failed);
    lg_jset(o, "held_max_s", lg_jnum(sl->held_max_s, 3), failed);
    if (sl->probed) {
        int any = sl->probes_ok + sl->probes_failed > 0;
        lg_jset(probe, "interval_ms", json_integer(LG_SLOW_PROBE_INTERVAL_MS), failed);
        lg_jset(probe, "timeout_ms", json_integer(LG_SLOW_PROBE_TIMEOUT_MS), failed);
        lg_jset(probe, "probes", lg_jint(sl->probes), failed);
        lg_jset(probe, "ok", lg_jint(sl->probes_ok), failed);
        lg_jset(probe, "failed", lg_jint(sl->probes_failed), failed);
        lg_jset(probe, "p50_ms", any ? lg_jnum(sl->probe_p50_ms, 3) : json_null(), failed);
        lg_jset(probe, "p99_ms", any ? lg_jnum(sl->probe_p99_ms, 3) : json_null(), failed);
        lg_jset(probe, "max_ms", any ? lg_jnum(sl->probe_max_ms, 3) : json_null(), failed);
    }
    lg_jset(o, "healthz_probe", probe, failed);
    return o;
}

static json_t *json_samples(const lg_result_t *r, int *failed)
{
    if (r->samples_path == NULL)
        return json_null();
    json_t *o = json_object();
    if (o == NULL) {
        *failed = 1;
        return NULL;
    }
    lg_jset(o, "path", json_string(r->samples_path), failed);
    lg_jset(o, "rows", lg_jint(r->samples_rows), failed);
    return o;
}

/* --check: evaluated on the report as built so far, which holds every
 * figure a check can name. */
static json_t *json_checks(const lg_result_t *r, const json_t *root, int *failed)
{
    if (r->checks == NULL)
        return json_null();
    *r->checks_failed = run_check_eval(r->checks, root, r->check_results);
    json_t *a = run_check_json(r->checks, r->check_results);
    if (a == NULL)
        *failed = 1;
    return a;
}

json_t *lg_report_json(const lg_result_t *r)
{
    int failed = 0;
    json_t *root = json_object();
    if (root == NULL)
        return NULL;
    lg_ceiling_t ceiling;
    lg_report_ceiling(r, &ceiling);
    lg_jset(root, "schema_version", json_integer(LG_SCHEMA_VERSION), &failed);
    lg_jset(root, "variant", json_string(r->variant), &failed);
    lg_jset(root, "workload", json_string(r->workload), &failed);
    lg_jset(root, "mode", json_string(r->cfg->mode), &failed);
    if (r->cfg->instance != NULL)
        lg_jset(root, "instance", json_string(r->cfg->instance), &failed);
    lg_jset(root, "url", json_string(r->cfg->url_text), &failed);
    lg_jset(root, "config", json_config(r, &failed), &failed);
    lg_jset(root, "summary", json_summary(r, &failed), &failed);
    lg_jset(root, "percentiles_ms", json_percentiles(r, 1, &failed), &failed);
    lg_jset(root, "percentiles_uncorrected_ms",
            r->cfg->rate_text ? json_percentiles(r, 0, &failed) : json_null(), &failed);
    lg_jset(root, "latency_spectrum", lg_report_spectrum_json(r, &failed), &failed);
    lg_jset(root, "series", lg_report_series_json(r, &failed), &failed);
    lg_jset(root, "steps", lg_report_steps_json(r, ceiling.known ? ceiling.closed_rps : 0, &failed),
            &failed);
    if (ceiling.known) {
        json_t *c = json_object();
        if (c != NULL) {
            lg_jset(c, "rps", lg_jnum(ceiling.rps, 3), &failed);
            lg_jset(c, "capacity", json_integer(ceiling.capacity), &failed);
            lg_jset(c, "formula",
                    json_string(ceiling.offered_rps > 0 ? CEILING_FORMULA_OPEN : CEILING_FORMULA),
                    &failed);
            if (ceiling.offered_rps > 0)
                lg_jset(c, "offered_rps", lg_jnum(ceiling.offered_rps, 3), &failed);
            lg_jset(c, "measured_over_ceiling", lg_jnum(ceiling.measured_over_ceiling, 4), &failed);
        }
        lg_jset(root, "ceiling", c, &failed);
    } else {
        lg_jset(root, "ceiling", json_null(), &failed);
        lg_jset(root, "ceiling_note", json_string(ceiling.note), &failed);
    }
    lg_jset(root, "verify", r->verify ? json_verify(r->verify, &failed) : json_null(), &failed);
    lg_jset(root, "server", r->server ? json_deep_copy(r->server) : json_null(), &failed);
    lg_jset(root, "environment", json_environment(r, &failed), &failed);
    lg_jset(root, "samples", json_samples(r, &failed), &failed);
    if (r->slow != NULL)
        lg_jset(root, "slow_clients", json_slow_clients(r->slow, &failed), &failed);
    lg_jset(root, "checks", failed ? json_null() : json_checks(r, root, &failed), &failed);
    if (failed) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int lg_report_build(const lg_result_t *r, char **json_text, json_t **parsed)
{
    *json_text = NULL;
    *parsed = NULL;
    json_t *json = lg_report_json(r);
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

void lg_report_basename(const lg_result_t *r, char *out, size_t cap)
{
    char stamp[32], variant[64], workload[64];
    format_started(r, "%Y%m%dT%H%M%SZ", stamp, sizeof stamp);
    safe_name(r->variant, variant, sizeof variant);
    safe_name(r->workload, workload, sizeof workload);
    if (r->cfg->instance != NULL)
        snprintf(out, cap, "%s_%s_%s_%s", stamp, variant, workload, r->cfg->instance);
    else
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

int lg_report_publish(const char *dir, const char *base, const char *json_text, const char *md_text,
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

int lg_report_write_file(const char *path, const char *text, char *err, size_t err_len)
{
    if (strcmp(path, "-") == 0) {
        if (fputs(text, stdout) == EOF || fflush(stdout) == EOF)
            return io_fail(err, err_len, "write", "stdout", -EIO);
        return 0;
    }
    return afile_replace(path, text, 1, err, err_len);
}

/* Print the summary: on stdout, or on stderr when the JSON goes there. */
static int print_summary(const lg_config_t *cfg, const char *summary)
{
    int json_to_stdout = cfg->json_path && strcmp(cfg->json_path, "-") == 0;
    FILE *out = json_to_stdout ? stderr : stdout;
    if (fputs(summary, out) == EOF || fflush(out) == EOF) {
        fprintf(stderr, "loadgen: writing the summary: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

static int write_json_file(const lg_config_t *cfg, const char *json_text)
{
    char err[LG_ERR_MAX * 2];
    if (lg_report_write_file(cfg->json_path, json_text, err, sizeof err) < 0) {
        fprintf(stderr, "loadgen: --json: %s\n", err);
        return 1;
    }
    if (strcmp(cfg->json_path, "-") != 0)
        fprintf(stderr, "loadgen: wrote %s\n", cfg->json_path);
    return 0;
}

/* --out DIR: the JSON and (without --no-markdown) the Markdown. */
static int write_out_dir(const lg_config_t *cfg, const lg_result_t *res, const char *json_text,
                         const char *md)
{
    char err[LG_ERR_MAX * 2], base[256], json_path[PATH_MAX], md_path[PATH_MAX];
    lg_report_basename(res, base, sizeof base);
    if (mkdir(cfg->out_dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "loadgen: --out: mkdir(%s): %s\n", cfg->out_dir, strerror(errno));
        return 1;
    }
    if (lg_report_publish(cfg->out_dir, base, json_text, md, json_path, md_path, sizeof json_path,
                       err, sizeof err) < 0) {
        fprintf(stderr, "loadgen: --out: %s\n", err);
        return 1;
    }
    fprintf(stderr, "loadgen: wrote %s\n", json_path);
    if (md != NULL)
        fprintf(stderr, "loadgen: wrote %s\n", md_path);
    return 0;
}

int lg_report_write_all(const lg_result_t *res)
{
    const lg_config_t *cfg = res->cfg;
    char *json_text = NULL, *summary = NULL, *md = NULL;
    json_t *parsed = NULL;
    int want_md = cfg->out_dir != NULL && !cfg->no_markdown;
    int rc = 0;
    if (lg_report_build(res, &json_text, &parsed) == 0) {
        summary = run_report_summary(parsed, NULL);
        md = want_md ? run_report_markdown(parsed, NULL) : NULL;
    }
    if (json_text == NULL || summary == NULL || (want_md && md == NULL)) {
        fprintf(stderr, "loadgen: out of memory writing the report\n");
        rc = 1;
        goto out;
    }
    rc |= print_summary(cfg, summary);
    if (cfg->json_path)
        rc |= write_json_file(cfg, json_text);
    if (cfg->out_dir)
        rc |= write_out_dir(cfg, res, json_text, md);
out:
    json_decref(parsed);
    free(json_text);
    free(summary);
    free(md);
    return rc;
}
