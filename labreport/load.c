#include "load.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "files.h"
#include "jsonutil.h"
#include "run_report.h"

const char *const lr_pct_keys[LR_PCT_COUNT] = {"50", "60", "70", "80", "90",
                                               "95", "99", "99.9", "100"};
const double lr_pct_values[LR_PCT_COUNT] = {50, 60, 70, 80, 90, 95, 99, 99.9, 100};

int lr_is_run_report(const json_t *json)
{
    return json_is_object(json) && json_is_object(json_object_get(json, "summary")) &&
           json_is_string(json_object_get(json, "variant"));
}

static const char *str_or(const json_t *obj, const char *key, const char *fallback)
{
    const char *s = lr_jstr_get(obj, key);
    return s ? s : fallback;
}

/* A busy fraction from server.json 2 (the file itself for the server, its
 * "loadgen" or "slowapi" object), NaN when not measured. */
static double busy_of(const json_t *program)
{
    if (!json_is_object(program))
        return NAN;
    double busy = run_report_busy(program);
    return isfinite(busy) && busy >= 0 ? busy : NAN;
}

static int load_resources(lr_run_t *run, const char *label, char *err, size_t err_len)
{
    const json_t *res = run->resources;
    if (res == NULL)
        return 0;
    if (!json_is_object(res)) {
        snprintf(err, err_len, "%s: its .server.json is not a JSON object", label);
        return -1;
    }
    const json_t *version = json_object_get(res, "schema_version");
    if (version != NULL && (!json_is_integer(version) || json_integer_value(version) < 1 ||
                            json_integer_value(version) > LR_RESOURCES_SCHEMA_MAX)) {
        snprintf(err, err_len, "%s: its .server.json has a schema_version this labreport "
                 "does not read (1 to %d)", label, LR_RESOURCES_SCHEMA_MAX);
        return -1;
    }
    run->server_cpu_s = lr_jnum_get(res, "cpu_seconds");
    run->server_peak_mib = lr_jnum_get(res, "peak_memory_mib");
    double server_busy = run_report_server_busy(res);
    run->server_busy = server_busy >= 0 ? server_busy : NAN;
    run->loadgen_busy = busy_of(json_object_get(res, "loadgen"));
    run->slowapi_busy = busy_of(json_object_get(res, "slowapi"));
    return 0;
}

/* loadgen's verify, its expectation adjusted for injected faults
 * (run_report_calls_expected). */
static void load_verify(lr_run_t *run)
{
    const json_t *verify = json_object_get(run->json, "verify");
    run_report_calls_t calls;
    run_report_calls_expected(run->json, run->resources, &calls);
    run->calls_per_answer = lr_jnum_get(verify, "calls_per_answer");
    run->calls_expected = calls.expected;
    snprintf(run->verify_verdict, sizeof run->verify_verdict, "%s", calls.verdict);
}

static void load_latency(lr_run_t *run, const json_t *summary)
{
    const json_t *pct = json_object_get(run->json, "percentiles_ms");
    for (int i = 0; i < LR_PCT_COUNT; i++)
        run->pct_ms[i] = lr_jnum_get(pct, lr_pct_keys[i]);
    run->mean_ms = lr_jnum_get(summary, "mean_ms");
    run->max_ms = lr_jnum_get(summary, "max_ms");
    if (isnan(run->max_ms))
        run->max_ms = run->pct_ms[LR_PCT_COUNT - 1];
}

static void load_ceiling(lr_run_t *run)
{
    const json_t *ceiling = json_object_get(run->json, "ceiling");
    run->ceiling_rps = lr_jnum_get(ceiling, "rps");
    run->of_ceiling = lr_jnum_get(ceiling, "measured_over_ceiling");
    if (isnan(run->of_ceiling) && run->ceiling_rps > 0)
        run->of_ceiling = run->rps / run->ceiling_rps;
}

/* The fields every schema has; -1 with the reason when one is missing. */
static int load_required(lr_run_t *run, const char *label, char *err, size_t err_len)
{
    const json_t *r = run->json;
    const json_t *version = json_object_get(r, "schema_version");
    if (!json_is_integer(version) || json_integer_value(version) < 1 ||
        json_integer_value(version) > LR_RUN_SCHEMA_MAX) {
        snprintf(err, err_len, "%s: not a run report this labreport reads "
                 "(schema_version 1 to %d expected)", label, LR_RUN_SCHEMA_MAX);
        return -1;
    }
    run->schema_version = (int)json_integer_value(version);
    run->variant = lr_jstr_get(r, "variant");
    run->workload = lr_jstr_get(r, "workload");
    const json_t *summary = json_object_get(r, "summary");
    const json_t *c = json_object_get(json_object_get(r, "config"), "concurrency");
    const char *missing = run->variant == NULL ? "variant"
                          : run->workload == NULL ? "workload"
                          : !json_is_object(summary) ? "summary"
                          : !json_is_number(json_object_get(summary, "rps")) ? "summary.rps"
                          : !json_is_integer(c) || json_integer_value(c) < 1 ||
                                    json_integer_value(c) > LONG_MAX
                              ? "config.concurrency"
                              : NULL;
    if (missing != NULL) {
        snprintf(err, err_len, "%s: not a run report: no valid \"%s\"", label, missing);
        return -1;
    }
    run->concurrency = (long)json_integer_value(c);
    return 0;
}

/* lr_run_from_json, with label (the path, where there is one) naming the
 * file in messages. */
static int run_from_json(json_t *report, json_t *resources, const char *name, const char *label,
                         lr_run_t *run, char *err, size_t err_len)
{
    memset(run, 0, sizeof *run);
    run->json = report;
    run->resources = resources;
    snprintf(run->name, sizeof run->name, "%s", name);
    if (!json_is_object(report)) {
        snprintf(err, err_len, "%s: not a run report (not a JSON object)", label);
        lr_run_free(run);
        return -1;
    }
    if (load_required(run, label, err, err_len) < 0) {
        lr_run_free(run);
        return -1;
    }
    const json_t *summary = json_object_get(report, "summary");
    run->mode = str_or(report, "mode", "unknown");
    run->started_at = str_or(json_object_get(report, "environment"), "started_at", "unknown");
    run->warmup_s = lr_jnum_at(report, "config", "warmup_s");
    run->delay_s = lr_jnum_at(report, "config", "delay_s");
    run->window_s = lr_jnum_get(summary, "duration_s");
    run->rps = lr_jnum_get(summary, "rps");
    run->rps_error = lr_jnum_get(summary, "rps_error");
    run->failures = lr_jnum_get(summary, "failures");
    run->ok = lr_jnum_get(summary, "ok");
    run->interrupted = json_is_true(json_object_get(summary, "interrupted"));
    load_latency(run, summary);
    load_ceiling(run);
    load_verify(run);
    run->server_cpu_s = run->server_peak_mib = run->cpu_ms_per_request = NAN;
    run->server_busy = run->loadgen_busy = run->slowapi_busy = NAN;
    if (load_resources(run, label, err, err_len) < 0) {
        lr_run_free(run);
        return -1;
    }
    double answered = run_report_answered(report);
    if (answered > 0 && !isnan(run->server_cpu_s))
        run->cpu_ms_per_request = run->server_cpu_s * 1000.0 / answered;
    return 0;
}

int lr_run_load(const char *path, lr_run_t *run, char *err, size_t err_len)
{
    memset(run, 0, sizeof *run);
    json_t *report = lr_json_load(path, err, err_len);
    if (report == NULL)
        return -1;
    json_t *resources = NULL;
    char res_path[PATH_MAX];
    if (lr_path_swap_json(res_path, sizeof res_path, path, ".server.json") == 0 &&
        lr_is_file(res_path)) {
        resources = lr_json_load(res_path, err, err_len);
        if (resources == NULL) {
            json_decref(report);
            return -1;
        }
    }
    const char *slash = strrchr(path, '/');
    return run_from_json(report, resources, slash ? slash + 1 : path, path, run, err, err_len);
}

int lr_run_from_json(json_t *report, json_t *resources, const char *name, lr_run_t *run,
                     char *err, size_t err_len)
{
    return run_from_json(report, resources, name, name, run, err, err_len);
}

void lr_run_free(lr_run_t *run)
{
    json_decref(run->json);
    json_decref(run->resources);
    memset(run, 0, sizeof *run);
}
