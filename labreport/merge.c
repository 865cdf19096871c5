#include "merge.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "files.h"
#include "jsonutil.h"
#include "labreport.h"
#include "samples.h"

/* The summary's counts, summed as they are. */
static const char *const summed_counts[] = {"issued", "ok", "failures", "timeouts", "unfinished",
                                            "warmup_excluded", "responses", "samples_dropped"};
/* Counts of the open loop, null in a closed one: summed when present. */
static const char *const summed_open_counts[] = {"planned", "late"};
/* The window's figures: each loadgen's rate over its own window, which
 * started together with the others', so the run's is their sum. */
static const char *const summed_rates[] = {"rps", "rps_error", "rps_time_share", "ok_in_window",
                                           "served_in_window"};
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
/* verify's rule, as loadgen's (verify.c): within 1% of max(expected, 1). */
#define VERIFY_ROOM 0.01

static json_int_t jint(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* obj[key] += v, as an integer. */
static void add_int(json_t *obj, const char *key, json_int_t v, int *failed)
{
    lr_jset(obj, key, json_integer(jint(obj, key) + v), failed);
}

/* Every report is of the same run: these fields agree. */
static int same_run(json_t *const *reports, size_t n, const char *const *paths, char *err,
                    size_t err_len)
{
    static const char *const top[] = {"variant", "workload", "mode"};
    static const char *const config[] = {"protocol", "load"};
    for (size_t i = 1; i < n; i++) {
        for (size_t k = 0; k < COUNT_OF(top); k++) {
            const char *a = lr_jstr_get(reports[0], top[k]), *b = lr_jstr_get(reports[i], top[k]);
            if (a == NULL || b == NULL || strcmp(a, b) != 0) {
                snprintf(err, err_len, "%s and %s are not of one run: %s differs", paths[0],
                         paths[i], top[k]);
                return -1;
            }
        }
        for (size_t k = 0; k < COUNT_OF(config); k++) {
            const char *a = lr_jstr_get(json_object_get(reports[0], "config"), config[k]);
            const char *b = lr_jstr_get(json_object_get(reports[i], "config"), config[k]);
            if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0)) {
                snprintf(err, err_len, "%s and %s are not of one run: config.%s differs",
                         paths[0], paths[i], config[k]);
                return -1;
            }
        }
    }
    return 0;
}

/* The samples file a report names, relative to the report's folder. */
static int samples_of(const char *path, const json_t *report, char *out, size_t cap, char *err,
                      size_t err_len)
{
    const char *file = lr_jstr_get(json_object_get(report, "samples"), "path");
    if (file == NULL) {
        snprintf(err, err_len, "%s has no samples file: each loadgen needs --samples for an "
                 "exact merge", path);
        return -1;
    }
    const char *slash = strrchr(path, '/');
    int w = file[0] == '/' || slash == NULL
                ? snprintf(out, cap, "%s", file)
                : snprintf(out, cap, "%.*s/%s", (int)(slash - path), path, file);
    if (w < 0 || (size_t)w >= cap) {
        snprintf(err, err_len, "%s: the samples file's path is too long", path);
        return -1;
    }
    return 0;
}

/* summary: the counts and rates summed, the latency figures from every
 * response of every loadgen (exact). */
static json_t *merged_summary(json_t *const *reports, size_t n, const lr_samples_t *all,
                              int *failed)
{
    json_t *sum = json_deep_copy(json_object_get(reports[0], "summary"));
    json_t *http = json_object(), *errors = json_object();
    if (sum == NULL || http == NULL || errors == NULL) {
        *failed = 1;
        json_decref(http);
        json_decref(errors);
        return sum;
    }
    for (size_t k = 0; k < COUNT_OF(summed_counts); k++)
        lr_jset(sum, summed_counts[k], json_integer(0), failed);
    for (size_t k = 0; k < COUNT_OF(summed_open_counts); k++)
        if (json_is_integer(json_object_get(sum, summed_open_counts[k])))
            lr_jset(sum, summed_open_counts[k], json_integer(0), failed);
    for (size_t k = 0; k < COUNT_OF(summed_rates); k++)
        lr_jset(sum, summed_rates[k], json_real(0), failed);
    double duration_s = 0;
    int interrupted = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_object_get(reports[i], "summary");
        for (size_t k = 0; k < COUNT_OF(summed_counts); k++)
            add_int(sum, summed_counts[k], jint(s, summed_counts[k]), failed);
        for (size_t k = 0; k < COUNT_OF(summed_open_counts); k++)
            if (json_is_integer(json_object_get(sum, summed_open_counts[k])))
                add_int(sum, summed_open_counts[k], jint(s, summed_open_counts[k]), failed);
        for (size_t k = 0; k < COUNT_OF(summed_rates); k++)
            lr_jset(sum, summed_rates[k],
                    lr_jnum(lr_jnum_get(sum, summed_rates[k]) + lr_jnum_get(s, summed_rates[k]), 3),
                    failed);
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)json_object_get(s, "http_errors"), key, v)
            add_int(http, key, json_integer_value(v), failed);
        json_object_foreach((json_t *)json_object_get(s, "errors"), key, v)
            add_int(errors, key, json_integer_value(v), failed);
        double d = lr_jnum_get(s, "duration_s");
        duration_s = isfinite(d) && d > duration_s ? d : duration_s;
        interrupted |= json_is_true(json_object_get(s, "interrupted"));
    }
    lr_jset(sum, "http_errors", http, failed);
    lr_jset(sum, "errors", errors, failed);
    lr_jset(sum, "duration_s", lr_jnum(duration_s, 3), failed);
    lr_jset(sum, "interrupted", json_boolean(interrupted), failed);
    /* Mean, min and max of the corrected latencies, as loadgen's. */
    double total_ms = 0;
    for (size_t r = 0; r < all->responses; r++)
        total_ms += (double)all->corrected_ns[r] / 1e6;
    int any = all->responses > 0;
    double mean_ms = any ? total_ms / (double)all->responses : NAN;
    lr_jset(sum, "mean_ms", lr_jnum(mean_ms, 3), failed);
    lr_jset(sum, "min_ms", lr_jnum(any ? (double)all->corrected_ns[0] / 1e6 : NAN, 3), failed);
    lr_jset(sum, "max_ms",
            lr_jnum(any ? (double)all->corrected_ns[all->responses - 1] / 1e6 : NAN, 3), failed);
    lr_jset(sum, "window_latencies",
            lr_jnum(any && mean_ms > 0 ? duration_s / (mean_ms / 1000) : 0, 1), failed);
    return sum;
}

/* config: the clients (and an open loop's rates) of every loadgen. */
static json_t *merged_config(json_t *const *reports, size_t n, int *failed)
{
    json_t *cfg = json_deep_copy(json_object_get(reports[0], "config"));
    if (cfg == NULL) {
        *failed = 1;
        return NULL;
    }
    json_int_t concurrency = 0, threads = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_object_get(reports[i], "config");
        concurrency += jint(c, "concurrency");
        threads += jint(c, "threads");
    }
    lr_jset(cfg, "concurrency", json_integer(concurrency), failed);
    lr_jset(cfg, "threads", json_integer(threads), failed);
    /* Each loadgen offered its share: the run, n times that. */
    json_t *rates = json_object_get(json_object_get(cfg, "rate"), "rates");
    size_t k;
    json_t *r;
    json_array_foreach(rates, k, r)
        json_array_set_new(rates, k, lr_jnum(json_number_value(r) * (double)n, 6));
    return cfg;
}

/* ceiling: min(clients, capacity) / delay over every loadgen's clients (in
 * an open loop, no more than the rate offered in all). */
static void merge_ceiling(json_t *merged, json_t *const *reports, size_t n, int *failed)
{
    json_t *ceiling = json_object_get(merged, "ceiling");
    if (!json_is_object(ceiling))
        return;
    const json_t *cfg = json_object_get(merged, "config");
    double c = lr_jnum_get(cfg, "concurrency"), delay = lr_jnum_get(cfg, "delay_s");
    double capacity = lr_jnum_get(ceiling, "capacity");
    double served = capacity > 0 && capacity < c ? capacity : c;
    double rps = delay > 0 ? served / delay : NAN;
    if (json_is_number(json_object_get(ceiling, "offered_rps"))) {
        double offered = 0;
        for (size_t i = 0; i < n; i++)
            offered += lr_jnum_at(reports[i], "ceiling", "offered_rps");
        lr_jset(ceiling, "offered_rps", lr_jnum(offered, 3), failed);
        rps = offered < rps ? offered : rps;
    }
    lr_jset(ceiling, "rps", lr_jnum(rps, 3), failed);
    double measured = lr_jnum_at(merged, "summary", "rps");
    lr_jset(ceiling, "measured_over_ceiling", lr_jnum(rps > 0 ? measured / rps : NAN, 4), failed);
}

static void set_readings(json_t *v, json_int_t before, json_int_t after, int *failed)
{
    lr_jset(v, "calls_before", json_integer(before), failed);
    lr_jset(v, "calls_after", json_integer(after), failed);
}

/* verify: every loadgen read slowapi's counter before its load and after
 * its drain; the run's calls lie between the earliest reading before and
 * the latest after (each report's calls_before and calls_after), over the
 * answers of all. Without the readings, no count. */
static void merge_verify(json_t *merged, json_t *const *reports, size_t n, int *failed)
{
    json_t *v = json_object_get(merged, "verify");
    if (!json_is_object(v))
        return;
    json_int_t before = -1, after = -1, answered = 0;
    int counted = 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *vi = json_object_get(reports[i], "verify");
        if (!json_is_integer(json_object_get(vi, "calls_before")) ||
            !json_is_integer(json_object_get(vi, "calls_after")))
            counted = 0;
        if (before < 0 || jint(vi, "calls_before") < before)
            before = jint(vi, "calls_before");
        if (jint(vi, "calls_after") > after)
            after = jint(vi, "calls_after");
        answered += jint(vi, "answered");
    }
    json_int_t calls = counted && after >= before ? after - before : -1;
    if (calls >= 0) {
        set_readings(v, before, after, failed);
    } else {
        json_object_del(v, "calls_before");
        json_object_del(v, "calls_after");
    }
    lr_jset(v, "answered", json_integer(answered), failed);
    lr_jset(v, "upstream_calls", calls >= 0 ? json_integer(calls) : json_null(), failed);
    double per = calls >= 0 && answered > 0 ? (double)calls / (double)answered : NAN;
    lr_jset(v, "calls_per_answer", lr_jnum(per, 2), failed);
    double expected = lr_jnum_get(v, "expected");
    const char *verdict = "n/a";
    if (isfinite(per) && isfinite(expected)) {
        double room = (expected > 1 ? expected : 1) * VERIFY_ROOM;
        verdict = fabs(per - expected) <= room ? "ok" : per < expected ? "short" : "over";
    }
    lr_jset(v, "verdict", json_string(verdict), failed);
    char note[256];
    snprintf(note, sizeof note, "merged from %zu loadgens: slowapi's calls from the earliest "
             "reading before a load to the latest after a drain, over the answers of all", n);
    lr_jset(v, "note", json_string(note), failed);
}

/* instances: each loadgen's own figures, as its report gives them. */
static json_t *instances(const char *const *paths, json_t *const *reports, size_t n, int *failed)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        const json_t *s = json_object_get(reports[i], "summary");
        const json_t *p = json_object_get(reports[i], "percentiles_ms");
        const char *slash = strrchr(paths[i], '/');
        json_t *o = json_object();
        lr_jset(o, "instance", lr_jstr(lr_jstr_get(reports[i], "instance")), failed);
        lr_jset(o, "report", json_string(slash ? slash + 1 : paths[i]), failed);
        lr_jset(o, "concurrency",
                json_integer(jint(json_object_get(reports[i], "config"), "concurrency")), failed);
        lr_jset(o, "issued", json_integer(jint(s, "issued")), failed);
        lr_jset(o, "ok", json_integer(jint(s, "ok")), failed);
        lr_jset(o, "failures", json_integer(jint(s, "failures")), failed);
        lr_jset(o, "rps", lr_jnum(lr_jnum_get(s, "rps"), 3), failed);
        lr_jset(o, "mean_ms", lr_jnum(lr_jnum_get(s, "mean_ms"), 3), failed);
        lr_jset(o, "p50_ms", lr_jnum(lr_jnum_get(p, "50"), 3), failed);
        lr_jset(o, "p99_ms", lr_jnum(lr_jnum_get(p, "99"), 3), failed);
        lr_jappend(a, o, failed);
    }
    if (a == NULL)
        *failed = 1;
    return a;
}

/* Every loadgen's samples, merged and sorted. */
static int read_samples(const char *const *paths, json_t *const *reports, size_t n,
                        lr_samples_t *all, char *err, size_t err_len)
{
    for (size_t i = 0; i < n; i++) {
        char file[PATH_MAX];
        if (samples_of(paths[i], reports[i], file, sizeof file, err, err_len) < 0 ||
            lr_samples_add(all, file, err, err_len) < 0)
            return -1;
    }
    lr_samples_sort(all);
    return 0;
}

json_t *lr_merge_reports(const char *const *paths, json_t *const *reports, size_t n, char *err,
                         size_t err_len)
{
    if (n == 0 || same_run(reports, n, paths, err, err_len) < 0)
        return NULL;
    lr_samples_t all;
    lr_samples_init(&all);
    if (read_samples(paths, reports, n, &all, err, err_len) < 0) {
        lr_samples_free(&all);
        return NULL;
    }
    int failed = 0;
    json_t *merged = json_deep_copy(reports[0]);
    json_t *latencies = lr_samples_json(&all);
    if (merged == NULL || latencies == NULL) {
        failed = 1;
    } else {
        json_object_del(merged, "instance");
        json_object_del(merged, "slow_clients");
        lr_jset(merged, "config", merged_config(reports, n, &failed), &failed);
        lr_jset(merged, "summary", merged_summary(reports, n, &all, &failed), &failed);
        lr_jset(merged, "percentiles_ms",
                json_incref(json_object_get(latencies, "percentiles_ms")), &failed);
        if (!json_is_null(json_object_get(merged, "percentiles_uncorrected_ms")))
            lr_jset(merged, "percentiles_uncorrected_ms",
                    json_incref(json_object_get(latencies, "percentiles_uncorrected_ms")),
                    &failed);
        static const char *const per_loadgen[] = {"latency_spectrum", "series", "steps",
                                                  "samples", "checks"};
        for (size_t k = 0; k < COUNT_OF(per_loadgen); k++)
            lr_jset(merged, per_loadgen[k], json_null(), &failed);
        merge_ceiling(merged, reports, n, &failed);
        merge_verify(merged, reports, n, &failed);
        lr_jset(merged, "instances", instances(paths, reports, n, &failed), &failed);
    }
    json_decref(latencies);
    lr_samples_free(&all);
    if (failed) {
        json_decref(merged);
        snprintf(err, err_len, "out of memory merging the reports");
        return NULL;
    }
    return merged;
}

int lr_merge(const char *out_path, const char *const *paths, size_t n, char *err,
             size_t err_len)
{
    json_t **reports = calloc(n, sizeof *reports);
    int status = LR_EXIT_FAIL;
    json_t *merged = NULL;
    char *text = NULL;
    if (reports == NULL) {
        snprintf(err, err_len, "out of memory");
        return status;
    }
    size_t loaded = 0;
    for (; loaded < n; loaded++)
        if ((reports[loaded] = lr_json_load(paths[loaded], err, err_len)) == NULL)
            goto out;
    merged = lr_merge_reports(paths, reports, n, err, err_len);
    if (merged == NULL)
        goto out;
    text = lr_jdump(merged);
    if (text == NULL) {
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    if (afile_create(out_path, text, err, err_len) == 0)
        status = LR_EXIT_OK;
out:
    for (size_t i = 0; i < loaded; i++)
        json_decref(reports[i]);
    free(reports);
    json_decref(merged);
    free(text);
    return status;
}
