/* loadgen/report.c: the JSON shape (schema_version 3, every key), the
 * served-share headline beside the time share, the ceiling (computed for
 * io, null with a note otherwise), verify, the summary and Markdown as
 * loadgen renders them (from its JSON parsed back, lib/run_report.c), and
 * the atomic, never-overwriting publication, with or without Markdown. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu_model.h"
#include "report.h"
#include "run_report.h"
#include "stats.h"
#include "url.h"
#include "verify.h"

/* A closed-loop request: planned and sent at 0, ended after latency_ns. */
static void end_after(lg_stats_t *s, int in_warmup, enum lg_outcome outcome, int status,
                      uint64_t latency_ns)
{
    lg_req_t r = {.planned_ns = 0, .sent_ns = 0, .in_warmup = in_warmup};
    lg_stats_end(s, &r, outcome, status, latency_ns);
}

typedef struct fixture {
    lg_config_t cfg;
    lg_stats_t stats;
    lg_result_t res;
    json_t *server;
} fixture_t;

/* 100 connections, 1 s delay, 3000 requests: 2990 ok at ~1003 ms, 4 x 502,
 * 2 timeouts, 1 connect error, 3 unfinished, 5 warm-up. */
static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->cfg = (lg_config_t){
        .url_text = "http://sut:3000/io",
        .connections = 100,
        .threads = 2,
        .duration_s = 30,
        .timeout_s = 30,
        .drain_s = 5,
        .wait_s = -1,
        .keepalive = 1,
        .mode = "docker",
        .fanout = 10,
        .delay_s = 1,
        .service_s = 1, /* main sets it for the io workload */
        .capacity = -1,
    };
    char err[LG_ERR_MAX];
    if (lg_url_parse(f->cfg.url_text, &f->cfg.url, err, sizeof err) < 0)
        return -1;
    if (lg_stats_init(&f->stats, 0) < 0)
        return -1;
    for (int i = 0; i < 2990; i++) {
        lg_stats_issue(&f->stats, 0);
        end_after(&f->stats, 0, LG_OUTCOME_RESPONSE, 200, 1003000000ULL + (uint64_t)i * 1000);
    }
    for (int i = 0; i < 4; i++) {
        lg_stats_issue(&f->stats, 0);
        end_after(&f->stats, 0, LG_OUTCOME_RESPONSE, 502, 5000000);
    }
    enum lg_outcome others[] = {LG_OUTCOME_TIMEOUT, LG_OUTCOME_TIMEOUT, LG_OUTCOME_ERR_CONNECT,
                                LG_OUTCOME_UNFINISHED, LG_OUTCOME_UNFINISHED,
                                LG_OUTCOME_UNFINISHED};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        lg_stats_issue(&f->stats, 0);
        end_after(&f->stats, 0, others[i], 0, 0);
    }
    for (int i = 0; i < 5; i++)
        lg_stats_issue(&f->stats, 1);
    assert_int_equal(lg_stats_finish(&f->stats, 0), 0);
    f->server = json_pack("{s:s, s:s, s:s, s:i, s:b}", "status", "ok", "variant", "event-loop",
                          "model", "one libuv event loop", "capacity", 0, "keep_alive", 1);
    /* The time share reads over the ceiling (a queue's wait counted),
     * the served share under it, and the edge term covers the gap. */
    f->stats.ok_in_window = 3021;     /* 100.7 rps */
    f->stats.served_in_window = 2990; /* 99.667 rps */
    f->stats.edge_error = 33;         /* 1.1 rps */
    f->res = (lg_result_t){
        .cfg = &f->cfg,
        .stats = &f->stats,
        .threads = 2,
        .duration_s = 30.0,
        .server = f->server,
        .variant = "event-loop",
        .workload = "io",
        .started_at = 1795729501, /* 2026-11-26T21:45:01Z */
        .cpus = 2,
    };
    snprintf(f->res.kernel, sizeof f->res.kernel, "6.1.0-test");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    lg_stats_free(&f->stats);
    json_decref(f->server);
    free(f);
    return 0;
}

static json_t *get(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        fail_msg("key \"%s\" missing", key);
    return v;
}

static void assert_keys(json_t *obj, const char *const *keys)
{
    assert_true(json_is_object(obj));
    size_t n = 0;
    for (; keys[n] != NULL; n++)
        (void)get(obj, keys[n]);
    if (json_object_size(obj) != n)
        fail_msg("object has %zu keys, expected %zu", json_object_size(obj), n);
}

static double num(json_t *obj, const char *key) { return json_number_value(get(obj, key)); }

/* What loadgen prints and writes: rendered from its JSON text, parsed
 * back (main.c's write_reports). */
static char *render(const lg_result_t *r, char *(*fn)(const json_t *, const json_t *))
{
    char *text = NULL;
    json_t *parsed = NULL;
    if (lg_report_build(r, &text, &parsed) < 0)
        return NULL;
    char *out = fn(parsed, NULL);
    free(text);
    json_decref(parsed);
    return out;
}

static char *summary_of(const lg_result_t *r) { return render(r, run_report_summary); }
static char *markdown_of(const lg_result_t *r) { return render(r, run_report_markdown); }

static void test_json_shape(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(setenv("LAB_GIT_COMMIT", "abc123", 1), 0);
    assert_int_equal(unsetenv("LAB_DOCKER_VERSION"), 0);
    json_t *j = lg_report_json(&f->res);
    assert_non_null(j);

    static const char *const top[] = {"schema_version", "variant", "workload", "mode", "url",
                                      "config", "summary", "percentiles_ms", "ceiling",
                                      "verify", "server", "environment",
                                      "percentiles_uncorrected_ms", "latency_spectrum",
                                      "series", "steps", "samples", "checks", NULL};
    assert_keys(j, top);
    assert_int_equal(json_integer_value(get(j, "schema_version")), 3);
    assert_true(json_is_null(get(j, "verify"))); /* no --upstream */
    assert_string_equal(json_string_value(get(j, "variant")), "event-loop");
    assert_string_equal(json_string_value(get(j, "workload")), "io");
    assert_string_equal(json_string_value(get(j, "mode")), "docker");
    assert_string_equal(json_string_value(get(j, "url")), "http://sut:3000/io");

    static const char *const config[] = {"protocol", "concurrency", "threads", "duration_s",
                                         "requests", "warmup_s", "drain_s", "ramp_s", "keepalive",
                                         "fanout", "delay_s", "timeout_s", "capacity",
                                         "upstream", "load", "rate", NULL};
    json_t *c = get(j, "config");
    assert_keys(c, config);
    assert_string_equal(json_string_value(get(c, "protocol")), "http");
    assert_int_equal(json_integer_value(get(c, "concurrency")), 100);
    assert_true(json_is_null(get(c, "requests")));
    assert_true(json_is_true(get(c, "keepalive")));
    assert_int_equal(json_integer_value(get(c, "fanout")), 10);
    assert_true(json_is_null(get(c, "upstream")));

    static const char *const summary[] = {
        "issued",  "ok",     "failures", "http_errors", "timeouts", "unfinished",
        "warmup_excluded", "errors", "rps", "rps_error", "rps_time_share", "ok_in_window",
        "served_in_window", "service_s", "window_latencies", "mean_ms", "min_ms", "max_ms",
        "duration_s", "responses", "samples_dropped", "interrupted", "planned", "late",
        "mean_uncorrected_ms", "send_lag_ms", NULL};
    json_t *s = get(j, "summary");
    assert_keys(s, summary);
    /* A closed loop: no plan, so no late bucket, no uncorrected figures,
     * no steps; the series and the spectrum are there. */
    assert_string_equal(json_string_value(get(c, "load")), "closed");
    assert_true(json_is_null(get(c, "rate")));
    assert_true(json_is_null(get(s, "planned")));
    assert_true(json_is_null(get(s, "late")));
    assert_true(json_is_null(get(s, "send_lag_ms")));
    assert_true(json_is_null(get(j, "percentiles_uncorrected_ms")));
    assert_true(json_is_null(get(j, "steps")));
    assert_true(json_is_null(get(j, "checks")));
    assert_true(json_is_array(get(get(j, "series"), "points")));
    assert_true(json_array_size(get(j, "latency_spectrum")) > 10);
    assert_int_equal(json_integer_value(get(s, "issued")), 3000);
    assert_int_equal(json_integer_value(get(s, "ok")), 2990);
    assert_int_equal(json_integer_value(get(s, "failures")), 4 + 2 + 1);
    assert_int_equal(json_integer_value(get(get(s, "http_errors"), "502")), 4);
    assert_int_equal(json_object_size(get(s, "http_errors")), 1);
    assert_int_equal(json_integer_value(get(s, "timeouts")), 2);
    assert_int_equal(json_integer_value(get(s, "unfinished")), 3);
    assert_int_equal(json_integer_value(get(s, "warmup_excluded")), 5);
    static const char *const errors[] = {"connect", "read", "write", "parse", NULL};
    assert_keys(get(s, "errors"), errors);
    assert_int_equal(json_integer_value(get(get(s, "errors"), "connect")), 1);
    /* The headline is the served share; the time share and the error
     * are beside it, and the error covers their difference. */
    assert_float_equal(num(s, "rps"), 2990 / 30.0, 0.001);
    assert_float_equal(num(s, "rps_time_share"), 3021 / 30.0, 0.001);
    assert_float_equal(num(s, "rps_error"), 33 / 30.0, 0.001);
    assert_float_equal(num(s, "served_in_window"), 2990, 0.001);
    assert_float_equal(num(s, "ok_in_window"), 3021, 0.001);
    assert_float_equal(num(s, "service_s"), 1.0, 0);
    assert_true(num(s, "rps_time_share") - num(s, "rps") <= num(s, "rps_error"));
    assert_float_equal(num(s, "min_ms"), 5.0, 1e-9);
    assert_float_equal(num(s, "max_ms"), 1003.0 + 2989 * 0.001, 0.001);
    assert_int_equal(json_integer_value(get(s, "responses")), 2994);

    static const char *const pct[] = {"50", "60", "70", "80", "90", "95", "99", "99.9", "100",
                                      NULL};
    json_t *p = get(j, "percentiles_ms");
    assert_keys(p, pct);
    /* Sorted: 4 x 5 ms, then 1003.000 + k us. 50% -> rank 1497 -> k = 1492. */
    assert_float_equal(num(p, "50"), 1003.0 + 1492 * 0.001, 0.0005);
    assert_float_equal(num(p, "100"), num(s, "max_ms"), 1e-9);

    static const char *const ceiling[] = {"rps", "capacity", "formula",
                                          "measured_over_ceiling", NULL};
    json_t *ce = get(j, "ceiling");
    assert_keys(ce, ceiling);
    /* capacity 0 from /healthz: unbounded -> concurrency 100 / 1 s; the
     * headline against it is under 1 where the time share was over. */
    assert_float_equal(num(ce, "rps"), 100.0, 1e-9);
    assert_int_equal(json_integer_value(get(ce, "capacity")), 0);
    assert_float_equal(num(ce, "measured_over_ceiling"), 0.9967, 0.00005);
    assert_null(json_object_get(j, "ceiling_note"));

    assert_string_equal(json_string_value(get(get(j, "server"), "variant")), "event-loop");

    static const char *const env[] = {"cpus", "machine_cpus", "kernel", "cpu_model",
                                      "upstream_cpu_model", "started_at", "git_commit", "docker_version",
                                      "compose_version", "cpu_sharing", NULL};
    json_t *e = get(j, "environment");
    assert_keys(e, env);
    /* The machine's own CPU model, as /proc/cpuinfo has it. */
    char model[128];
    assert_int_equal(cpu_model(model, sizeof model), 0);
    assert_string_equal(json_string_value(get(e, "cpu_model")), model);
    assert_true(strlen(model) > 0 && strcmp(model, "unknown") != 0);
    assert_string_equal(json_string_value(get(e, "started_at")), "2026-11-26T21:45:01Z");
    assert_string_equal(json_string_value(get(e, "git_commit")), "abc123");
    assert_true(json_is_null(get(e, "docker_version")));
    assert_true(json_is_null(get(e, "upstream_cpu_model"))); /* no --upstream */
    json_decref(j);
}

static void test_ceiling_capacity(void **state)
{
    fixture_t *f = *state;
    lg_ceiling_t c;
    /* --capacity overrides the server: min(100, 10) / 0.5 s = 20 rps. */
    f->cfg.capacity = 10;
    f->cfg.delay_s = 0.5;
    lg_report_ceiling(&f->res, &c);
    assert_true(c.known);
    assert_float_equal(c.rps, 20.0, 1e-9);
    assert_int_equal(c.capacity, 10);
    /* A capacity above c: c bounds it. */
    f->cfg.capacity = 1000;
    lg_report_ceiling(&f->res, &c);
    assert_float_equal(c.rps, 200.0, 1e-9);
    /* No capacity anywhere: no ceiling, and the note says why. */
    f->cfg.capacity = -1;
    f->res.server = NULL;
    lg_report_ceiling(&f->res, &c);
    assert_false(c.known);
    assert_non_null(strstr(c.note, "capacity"));
    /* No delay: none either. */
    f->res.server = f->server;
    f->cfg.delay_s = -1;
    lg_report_ceiling(&f->res, &c);
    assert_false(c.known);
    assert_non_null(strstr(c.note, "delay"));
}

/* Without --delay there is no service time: service_s is null. (The
 * workers then count the served share over the whole latency, so it
 * equals the time share; here the fixture's sums are set apart.) */
static void test_no_delay_no_service_time(void **state)
{
    fixture_t *f = *state;
    f->cfg.delay_s = -1;
    f->cfg.service_s = 0;
    json_t *j = lg_report_json(&f->res);
    assert_non_null(j);
    assert_true(json_is_null(get(get(j, "summary"), "service_s")));
    assert_true(json_is_null(get(j, "ceiling")));
    json_decref(j);
    f->stats.ok_in_window = f->stats.served_in_window;
    f->stats.edge_error = 0;
    char *text = summary_of(&f->res);
    assert_non_null(text);
    assert_non_null(strstr(text, "\nRate: 99.7 rps \xc2\xb1 0.0 (time share: no service time, so no "
                                 "served share)\n"));
    free(text);
}

static void test_ceiling_null_for_cpu(void **state)
{
    fixture_t *f = *state;
    f->res.workload = "cpu";
    json_t *j = lg_report_json(&f->res);
    assert_non_null(j);
    assert_true(json_is_null(get(j, "ceiling")));
    const char *note = json_string_value(get(j, "ceiling_note"));
    assert_non_null(note);
    assert_non_null(strstr(note, "cpu"));
    json_decref(j);
}

static void test_no_responses(void **state)
{
    fixture_t *f = *state;
    lg_stats_t empty;
    assert_int_equal(lg_stats_init(&empty, 0), 0);
    for (int i = 0; i < 3; i++) {
        lg_stats_issue(&empty, 0);
        end_after(&empty, 0, LG_OUTCOME_ERR_CONNECT, 0, 0);
    }
    f->res.stats = &empty;
    f->res.duration_s = 0;
    json_t *j = lg_report_json(&f->res);
    assert_non_null(j);
    assert_true(json_is_null(get(j, "percentiles_ms")));
    json_t *s = get(j, "summary");
    assert_true(json_is_null(get(s, "mean_ms")));
    assert_true(json_is_null(get(s, "min_ms")));
    assert_float_equal(num(s, "rps"), 0.0, 0);
    assert_int_equal(json_integer_value(get(s, "failures")), 3);
    json_decref(j);
    char *text = summary_of(&f->res);
    assert_non_null(text);
    assert_non_null(strstr(text, "Number of failure:    3\n"));
    assert_non_null(strstr(text, " 50%   n/a\n"));
    free(text);
    lg_stats_free(&empty);
}

static void test_summary_text(void **state)
{
    fixture_t *f = *state;
    char *text = summary_of(&f->res);
    assert_non_null(text);
    const char *expected_head = "Number of failure:    7\n"
                                "Request per second:   99.7 [#/sec] (mean)\n"
                                "Time per request:     1003.2 [ms] (mean)\n"
                                " 50%   1004.5\n";
    if (strncmp(text, expected_head, strlen(expected_head)) != 0)
        fail_msg("summary starts:\n%s", text);
    assert_non_null(strstr(text, "\n99.9%   "));
    assert_non_null(strstr(text, "\n100%   1006.0\n"));
    /* The buckets, then the rate, then the ceiling, in that order, each
     * one whole line. */
    assert_non_null(strstr(text, "\n100%   1006.0\n"
                                 "Buckets: issued 3000 = ok 2990 + http errors 4 (502: 4) + "
                                 "timeouts 2 + connection errors 1 (connect 1, read 0, write 0, "
                                 "parse 0) + unfinished 3; warm-up excluded 5\n"
                                 "Rate: 99.7 rps \xc2\xb1 1.1 (served share; time share 100.7)\n"
                                 "Ceiling: 100.0 rps (min(c=100, capacity=unbounded) / delay 1 s); "
                                 "measured/ceiling 0.997\n"));
    assert_null(strstr(text, "Verified:"));
    free(text);

    char *md = markdown_of(&f->res);
    assert_non_null(md);
    assert_memory_equal(md, "# event-loop / io (docker)\n", strlen("# event-loop / io (docker)\n"));
    assert_non_null(strstr(md, "```\nNumber of failure:"));
    assert_non_null(strstr(md, "| http 502 | 4 |"));
    assert_non_null(strstr(md, "Ceiling: 100.0 rps"));
    assert_non_null(strstr(md, "- kernel: 6.1.0-test"));
    free(md);

    char base[256];
    lg_report_basename(&f->res, base, sizeof base);
    assert_string_equal(base, "20261126T214501Z_event-loop_io");
    f->res.variant = "a b/../c";
    lg_report_basename(&f->res, base, sizeof base);
    assert_string_equal(base, "20261126T214501Z_a-b-..-c_io");
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* --grpc: the same buckets, the codes named as gRPC's. */
static void test_summary_text_grpc(void **state)
{
    fixture_t *f = *state;
    f->cfg.grpc = 1;
    lg_stats_issue(&f->stats, 0);
    end_after(&f->stats, 0, LG_OUTCOME_RESPONSE, 14, 5000000);
    f->stats.buckets.issued--; /* keep 3000: one of the 502s becomes a 14 */
    f->stats.buckets.http_status[502]--;
    char *text = summary_of(&f->res);
    assert_non_null(text);
    assert_non_null(strstr(text, "= ok 2990 + grpc status errors 4 (14 UNAVAILABLE: 1, 502 "
                                 "UNKNOWN_CODE: 3) + timeouts 2"));
    free(text);
    char *md = markdown_of(&f->res);
    assert_non_null(md);
    assert_non_null(strstr(md, "| grpc 14 UNAVAILABLE | 1 |"));
    free(md);
    json_t *j = lg_report_json(&f->res);
    assert_non_null(j);
    json_t *c = get(j, "config");
    assert_string_equal(json_string_value(get(c, "protocol")), "grpc");
    json_t *errors = get(get(j, "summary"), "http_errors");
    assert_int_equal(json_integer_value(get(errors, "14")), 1);
    json_decref(j);
}

static void test_publish_never_overwrites(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_loadgen_report.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char jp[PATH_MAX], mp[PATH_MAX], err[512];
    const char *base = "20261126T214501Z_event-loop_io";

    assert_int_equal(lg_report_publish(dir, base, "{\"n\":1}\n", "# one\n", jp, mp, sizeof jp, err,
                                    sizeof err),
                     0);
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/%s.json", dir, base);
    assert_string_equal(jp, want);
    snprintf(want, sizeof want, "%s/%s.md", dir, base);
    assert_string_equal(mp, want);

    /* Same name again: the first stays, the second gets -2, then -3. */
    assert_int_equal(lg_report_publish(dir, base, "{\"n\":2}\n", "# two\n", jp, mp, sizeof jp, err,
                                    sizeof err),
                     0);
    snprintf(want, sizeof want, "%s/%s-2.json", dir, base);
    assert_string_equal(jp, want);
    assert_string_equal(slurp(jp), "{\"n\":2}\n");
    assert_string_equal(slurp(mp), "# two\n");
    snprintf(want, sizeof want, "%s/%s.json", dir, base);
    assert_string_equal(slurp(want), "{\"n\":1}\n");

    /* A stray -3.md (no .json): the pair moves on to -4 together. */
    snprintf(want, sizeof want, "%s/%s-3.md", dir, base);
    FILE *fp = fopen(want, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(lg_report_publish(dir, base, "{\"n\":4}\n", "# four\n", jp, mp, sizeof jp, err,
                                    sizeof err),
                     0);
    snprintf(want, sizeof want, "%s/%s-4.json", dir, base);
    assert_string_equal(jp, want);
    snprintf(want, sizeof want, "%s/%s-3.json", dir, base);
    assert_int_equal(access(want, F_OK), -1);

    /* Six files and no temporary left over. */
    assert_int_equal(count_entries(dir), 7);

    /* A missing directory fails with a message. */
    char missing[PATH_MAX + 16];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    assert_true(lg_report_publish(missing, base, "{}", "#", jp, mp, sizeof jp, err, sizeof err) < 0);
    assert_non_null(strstr(err, "nope"));

    /* lg_report_write_file replaces (that file is the caller's choice). */
    char file[PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/out.json", dir);
    assert_int_equal(lg_report_write_file(file, "{\"a\":1}\n", err, sizeof err), 0);
    assert_int_equal(lg_report_write_file(file, "{\"a\":2}\n", err, sizeof err), 0);
    assert_string_equal(slurp(file), "{\"a\":2}\n");
    assert_int_equal(count_entries(dir), 8);

    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* --upstream: config.upstream, the verify object, and its summary and
 * Markdown lines. */
static void test_verify_in_report(void **state)
{
    fixture_t *f = *state;
    f->cfg.upstream_text = "http://slowapi:8001";
    lg_verify_t v = {.counted = 1, .upstream_calls = 29950, .calls_before = 50,
                     .calls_after = 30000, .answered = 2999, .expected = 10};
    lg_verify_judge(&v, NULL, 10);
    f->res.verify = &v;
    f->res.upstream_cpu_model = "Example CPU 9000"; /* slowapi's /healthz said so */
    json_t *j = lg_report_json(&f->res);
    assert_non_null(j);
    assert_string_equal(json_string_value(get(get(j, "config"), "upstream")),
                        "http://slowapi:8001");
    assert_string_equal(json_string_value(get(get(j, "environment"), "upstream_cpu_model")),
                        "Example CPU 9000");
    static const char *const keys[] = {"upstream_calls", "calls_before", "calls_after",
                                       "answered", "calls_per_answer", "expected", "verdict",
                                       "note", NULL};
    json_t *vj = get(j, "verify");
    assert_keys(vj, keys);
    assert_int_equal(json_integer_value(get(vj, "upstream_calls")), 29950);
    /* The readings, for a merge of several loadgens' reports. */
    assert_int_equal(json_integer_value(get(vj, "calls_before")), 50);
    assert_int_equal(json_integer_value(get(vj, "calls_after")), 30000);
    assert_int_equal(json_integer_value(get(vj, "answered")), 2999);
    assert_float_equal(num(vj, "calls_per_answer"), 9.99, 0); /* 9.98666: 2 decimals */
    assert_int_equal(json_integer_value(get(vj, "expected")), 10);
    assert_string_equal(json_string_value(get(vj, "verdict")), "ok");
    assert_non_null(strstr(json_string_value(get(vj, "note")), "10 requests failed"));
    json_decref(j);

    char *text = summary_of(&f->res);
    assert_non_null(text);
    assert_non_null(strstr(text, "\nRate: 99.7 rps \xc2\xb1 1.1 (served share; time share 100.7)\n"
                                 "Verified: 9.99 upstream calls per answered request (expected "
                                 "10): ok (10 requests failed"));
    free(text);
    char *md = markdown_of(&f->res);
    assert_non_null(md);
    assert_non_null(strstr(md, "| upstream | `http://slowapi:8001` |\n"));
    assert_non_null(strstr(md, "\n\nVerified: 9.99 upstream calls per answered request"));
    free(md);

    /* The counter unread: no counts, the reason instead. */
    lg_verify_t unread = {.answered = 3000, .expected = 10};
    lg_verify_judge(&unread, "before the load: GET /stats has no calls_total", 0);
    f->res.verify = &unread;
    j = lg_report_json(&f->res);
    assert_non_null(j);
    vj = get(j, "verify");
    assert_true(json_is_null(get(vj, "upstream_calls")));
    assert_true(json_is_null(get(vj, "calls_per_answer")));
    assert_string_equal(json_string_value(get(vj, "verdict")), "n/a");
    json_decref(j);
    text = summary_of(&f->res);
    assert_non_null(text);
    assert_non_null(strstr(text, "\nVerified: n/a (the upstream counter could not be read: before "
                                 "the load: GET /stats has no calls_total)\n"));
    free(text);
}

static char *slurp_all(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return NULL;
    char *text = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&text, &cap, '\0', fp);
    fclose(fp);
    if (n < 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* The Markdown loadgen writes is what a rebuild from its JSON file gives,
 * byte for byte: rendered from the text as written, parsed back. */
static void test_markdown_rebuilds_identically(void **state)
{
    fixture_t *f = *state;
    lg_verify_t v = {.counted = 1, .upstream_calls = 30000, .answered = 3000, .expected = 10};
    lg_verify_judge(&v, NULL, 0);
    f->cfg.upstream_text = "http://slowapi:8001";
    f->res.verify = &v;
    f->stats.ok_in_window = 2991.23456789; /* more digits than the report keeps */
    char *text = NULL;
    json_t *parsed = NULL;
    assert_int_equal(lg_report_build(&f->res, &text, &parsed), 0);
    char *md = run_report_markdown(parsed, NULL);
    char *summary = run_report_summary(parsed, NULL);
    assert_non_null(md);
    assert_non_null(summary);

    char dir[] = "/tmp/test_loadgen_report.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[PATH_MAX], err[512];
    snprintf(path, sizeof path, "%s/run.json", dir);
    assert_int_equal(lg_report_write_file(path, text, err, sizeof err), 0);
    json_error_t jerr;
    json_t *loaded = json_load_file(path, 0, &jerr);
    assert_non_null(loaded);
    char *md_again = run_report_markdown(loaded, NULL);
    char *summary_again = run_report_summary(loaded, NULL);
    assert_non_null(md_again);
    assert_string_equal(md, md_again);
    assert_string_equal(summary, summary_again);
    /* And the text written is the text parsed: one newline at its end. */
    char *on_disk = slurp_all(path);
    assert_non_null(on_disk);
    assert_string_equal(on_disk, text);
    assert_int_equal(on_disk[strlen(on_disk) - 1], '\n');
    free(on_disk);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    json_decref(loaded);
    json_decref(parsed);
    free(md_again);
    free(summary_again);
    free(md);
    free(summary);
    free(text);
}

/* --no-markdown: the JSON alone, under a name whose .md is free too, so
 * that run.sh can render the .md beside it later. */
static void test_publish_without_markdown(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_loadgen_report.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char jp[PATH_MAX], mp[PATH_MAX], err[512], want[PATH_MAX];
    const char *base = "20261126T214501Z_event-loop_io";
    assert_int_equal(lg_report_publish(dir, base, "{\"n\":1}\n", NULL, jp, mp, sizeof jp, err,
                                    sizeof err),
                     0);
    snprintf(want, sizeof want, "%s/%s.json", dir, base);
    assert_string_equal(jp, want);
    assert_string_equal(mp, "");
    assert_int_equal(count_entries(dir), 1);
    /* A .md of that name without its .json (rendered there, the .json
     * gone): the next JSON moves on to -2, and the .md stays. */
    assert_int_equal(unlink(want), 0);
    snprintf(want, sizeof want, "%s/%s.md", dir, base);
    FILE *fp = fopen(want, "w");
    assert_non_null(fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(lg_report_publish(dir, base, "{\"n\":2}\n", NULL, jp, mp, sizeof jp, err,
                                    sizeof err),
                     0);
    snprintf(want, sizeof want, "%s/%s-2.json", dir, base);
    assert_string_equal(jp, want);
    assert_int_equal(count_entries(dir), 2);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ceiling_capacity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_delay_no_service_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ceiling_null_for_cpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_responses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_text_grpc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_in_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_markdown_rebuilds_identically, setup, teardown),
        cmocka_unit_test(test_publish_never_overwrites),
        cmocka_unit_test(test_publish_without_markdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
