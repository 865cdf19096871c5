/* lib/run_report.c: the summary and Markdown rendered from a run report's
 * JSON. Archived reports of schema 1 and 2 (tests/fixtures/run_report,
 * copied from results/) render to their own Markdown byte for byte; a
 * schema 3 report gets the Rate and Verified lines; the resources file
 * adds the Resources lines, the busy fractions and the warning at 90%. An
 * open loop's report (a hand-made fixture, consistent: issued + late =
 * planned, the series' columns sum to the totals) renders to its golden
 * Markdown and summary; a closed loop with the new fields null renders as
 * one without them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "run_report.h"

#define FIXTURES "tests/fixtures/run_report/"

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        fail_msg("cannot open %s (run from the repository's root)", path);
    char *text = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&text, &cap, '\0', fp);
    fclose(fp);
    assert_true(n > 0);
    return text;
}

static json_t *load(const char *path)
{
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (j == NULL)
        fail_msg("%s: %s", path, err.text);
    return j;
}

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (j == NULL)
        fail_msg("line %d: %s", err.line, err.text);
    return j;
}

/* The Markdown written by the loadgen of that schema, reproduced. */
static void check_archived(const char *stem)
{
    char json_path[256], md_path[256];
    snprintf(json_path, sizeof json_path, FIXTURES "%s.json", stem);
    snprintf(md_path, sizeof md_path, FIXTURES "%s.md", stem);
    json_t *run = load(json_path);
    char *want = slurp(md_path);
    char *md = run_report_markdown(run, NULL);
    assert_non_null(md);
    if (strcmp(md, want) != 0)
        fail_msg("%s differs; rendered:\n%s", stem, md);
    free(md);
    free(want);
    json_decref(run);
}

static void test_archived_markdown_byte_identical(void **state)
{
    (void)state;
    check_archived("schema1_thread-per-request_io"); /* http 504s, no protocol, no machine_cpus */
    check_archived("schema2_single-thread_io");      /* timeouts, unfinished, the note */
    check_archived("schema2_grpc-sync_io_n300");     /* -n, gRPC */
}

/* Schema 1 and 2 have no served share and no verify: no such lines. */
static void test_archived_summary(void **state)
{
    (void)state;
    json_t *run = load(FIXTURES "schema1_thread-per-request_io.json");
    char *text = run_report_summary(run, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "Number of failure:    187\n"));
    assert_non_null(strstr(text, "+ http errors 187 (504: 187) + timeouts 0"));
    assert_null(strstr(text, "Rate:"));
    assert_null(strstr(text, "Verified:"));
    free(text);
    json_decref(run);
    run = load(FIXTURES "schema2_single-thread_io.json");
    text = run_report_summary(run, NULL);
    assert_non_null(text);
    /* The time share's note, before the ceiling. */
    assert_non_null(strstr(text, "\nNote: the window holds only 2.0 mean latencies; where clients "
                                 "queue, rps may read up to ~50% high (run longer, use -n, or "
                                 "--warmup past the queue)\nCeiling: 1.0 rps"));
    free(text);
    json_decref(run);
}

/* A threadpool-50 run at c=100: a queue of two, with --upstream. */
static const char schema3_run[] =
    "{\"schema_version\":3,\"variant\":\"threadpool-50\",\"workload\":\"io\",\"mode\":\"docker\","
    "\"url\":\"http://sut:3000/io\","
    "\"config\":{\"protocol\":\"http\",\"concurrency\":100,\"threads\":1,\"duration_s\":30.0,"
    "\"requests\":null,\"warmup_s\":0.0,\"drain_s\":5.0,\"ramp_s\":0.0,\"keepalive\":true,"
    "\"fanout\":10,\"delay_s\":1.0,\"timeout_s\":30.0,\"capacity\":null,"
    "\"upstream\":\"http://slowapi:8001\"},"
    "\"summary\":{\"issued\":1550,\"ok\":1500,\"failures\":0,\"http_errors\":{},\"timeouts\":0,"
    "\"unfinished\":50,\"warmup_excluded\":0,"
    "\"errors\":{\"connect\":0,\"read\":0,\"write\":0,\"parse\":0},"
    "\"rps\":50.0,\"rps_error\":0.833,\"rps_time_share\":50.833,\"ok_in_window\":1525.0,"
    "\"served_in_window\":1500.0,\"service_s\":1.0,\"window_latencies\":5.0,\"mean_ms\":1977.2,"
    "\"min_ms\":1000.4,\"max_ms\":2130.1,\"duration_s\":30.0,\"responses\":1500,"
    "\"samples_dropped\":0,\"interrupted\":false},"
    "\"percentiles_ms\":{\"50\":2001.4,\"60\":2001.6,\"70\":2001.9,\"80\":2002.3,\"90\":2003.0,"
    "\"95\":2004.1,\"99\":2130.1,\"99.9\":2130.1,\"100\":2130.1},"
    "\"ceiling\":{\"rps\":50.0,\"capacity\":50,\"formula\":\"min(concurrency, capacity) / "
    "delay_s\",\"measured_over_ceiling\":1.0},"
    "\"verify\":{\"upstream_calls\":15000,\"answered\":1500,\"calls_per_answer\":10.0,"
    "\"expected\":10,\"verdict\":\"ok\",\"note\":null},"
    "\"server\":{\"variant\":\"threadpool-50\",\"capacity\":50},"
    "\"environment\":{\"cpus\":1,\"machine_cpus\":2,\"kernel\":\"6.1.0\","
    "\"started_at\":\"2026-11-30T12:00:00Z\",\"git_commit\":\"abc1234\",\"docker_version\":null,"
    "\"compose_version\":null,\"cpu_sharing\":null}}";

static const char schema3_summary[] =
    "Number of failure:    0\n"
    "Request per second:   50.0 [#/sec] (mean)\n"
    "Time per request:     1977.2 [ms] (mean)\n"
    " 50%   2001.4\n"
    " 60%   2001.6\n"
    " 70%   2001.9\n"
    " 80%   2002.3\n"
    " 90%   2003.0\n"
    " 95%   2004.1\n"
    " 99%   2130.1\n"
    "99.9%   2130.1\n"
    "100%   2130.1\n"
    "Buckets: issued 1550 = ok 1500 + http errors 0 + timeouts 0 + connection errors 0 (connect "
    "0, read 0, write 0, parse 0) + unfinished 50; warm-up excluded 0\n"
    "Rate: 50.0 rps \xc2\xb1 0.8 (served share; time share 50.8)\n"
    "Verified: 10.00 upstream calls per answered request (expected 10): ok\n"
    "Ceiling: 50.0 rps (min(c=100, capacity=50) / delay 1 s); measured/ceiling 1.000\n";

/* The served share states its own error: no time-share note, though the
 * window holds only 5 latencies. */
static void test_schema3_summary(void **state)
{
    (void)state;
    json_t *run = parse(schema3_run);
    char *text = run_report_summary(run, NULL);
    assert_non_null(text);
    assert_string_equal(text, schema3_summary);
    free(text);
    /* Without a service time the note is back, and the rate says why. */
    assert_int_equal(json_object_set_new(json_object_get(run, "summary"), "service_s",
                                         json_null()),
                     0);
    text = run_report_summary(run, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "Rate: 50.0 rps \xc2\xb1 0.8 (time share: no service time, so no "
                                 "served share)\nVerified: "));
    assert_non_null(strstr(text, "\nNote: the window holds only 5.0 mean latencies"));
    free(text);
    json_decref(run);
}

static void test_schema3_verify_lines(void **state)
{
    (void)state;
    json_t *run = parse(schema3_run);
    json_t *v = json_object_get(run, "verify");
    json_object_set_new(v, "calls_per_answer", json_real(9.1));
    json_object_set_new(v, "verdict", json_string("short"));
    json_object_set_new(v, "note", json_string("50 requests failed or were cut off"));
    char *text = run_report_summary(run, NULL);
    assert_non_null(strstr(text, "\nVerified: 9.10 upstream calls per answered request (expected "
                                 "10): short (50 requests failed or were cut off)\n"));
    free(text);
    json_object_set_new(v, "upstream_calls", json_null());
    json_object_set_new(v, "calls_per_answer", json_null());
    json_object_set_new(v, "verdict", json_string("n/a"));
    json_object_set_new(v, "note", json_string("the upstream counter could not be read: x"));
    text = run_report_summary(run, NULL);
    assert_non_null(strstr(text, "\nVerified: n/a (the upstream counter could not be read: x)\n"));
    free(text);
    json_object_set_new(v, "upstream_calls", json_integer(5));
    json_object_set_new(v, "expected", json_null());
    json_object_set_new(v, "note", json_string("unknown"));
    text = run_report_summary(run, NULL);
    assert_non_null(strstr(text, "\nVerified: n/a upstream calls per answered request (expected "
                                 "unknown): n/a (unknown)\n"));
    free(text);
    json_object_set_new(run, "verify", json_null());
    text = run_report_summary(run, NULL);
    assert_null(strstr(text, "Verified"));
    free(text);
    json_decref(run);
}

static void test_schema3_markdown(void **state)
{
    (void)state;
    json_t *run = parse(schema3_run);
    char *md = run_report_markdown(run, NULL);
    assert_non_null(md);
    assert_null(strstr(md, "| capacity (given)"));
    assert_non_null(strstr(md, "| delay | 1 s |\n| upstream | `http://slowapi:8001` |\n\n"));
    /* The classic lines in the code block, the new ones each a paragraph
     * after the buckets, then the ceiling, then the environment. */
    assert_non_null(strstr(md, "```\nNumber of failure:    0\nRequest per second:   50.0"));
    assert_non_null(strstr(md, "| warm-up (excluded) | 0 |\n\n"
                               "Rate: 50.0 rps \xc2\xb1 0.8 (served share; time share 50.8)\n\n"
                               "Verified: 10.00 upstream calls per answered request (expected "
                               "10): ok\n\n"
                               "Ceiling: 50.0 rps (min(c=100, capacity=50) / delay 1 s); "
                               "measured/ceiling 1.000\n\n## Environment\n"));
    assert_null(strstr(md, "## Resources"));
    assert_non_null(strstr(md, "- server: {\"variant\":\"threadpool-50\",\"capacity\":50}\n"));
    free(md);
    json_decref(run);
}

static const char resources_2[] =
    "{\"schema_version\":2,\"variant\":\"threadpool-50\",\"workload\":\"io\","
    "\"cpu_seconds\":21.78,\"peak_memory_mib\":430.9,\"wall_seconds\":31.5,\"cpus\":1,"
    "\"measured\":\"container cgroup: CPU time, peak memory with page cache\","
    "\"loadgen\":{\"cpu_seconds\":29.3,\"wall_seconds\":31.5,\"cpus\":1},"
    "\"slowapi\":{\"cpu_seconds\":3.2,\"wall_seconds\":31.5,\"cpus\":1}}";

static void test_resources(void **state)
{
    (void)state;
    json_t *run = parse(schema3_run), *res = parse(resources_2);
    char *text = run_report_summary(run, res);
    assert_non_null(text);
    /* The summary as without resources, then their lines. */
    assert_memory_equal(text, schema3_summary, strlen(schema3_summary));
    assert_string_equal(text + strlen(schema3_summary),
                        "Resources: server 21.78 CPU s (69% busy), peak memory 430.9 MiB, "
                        "14.52 CPU ms per request; loadgen 29.30 CPU s (93% busy); slowapi "
                        "3.20 CPU s (10% busy)\n"
                        "Warning: loadgen was 93% busy: this run may measure loadgen, not the "
                        "server.\n");
    free(text);
    char *md = run_report_markdown(run, res);
    assert_non_null(md);
    assert_non_null(strstr(md, "measured/ceiling 1.000\n\n## Resources\n\n"
                               "| program | CPU s | busy | peak memory MiB | CPU ms per "
                               "request |\n|---|---:|---:|---:|---:|\n"
                               "| server | 21.78 | 69% | 430.9 | 14.52 |\n"
                               "| loadgen | 29.30 | 93% |  |  |\n"
                               "| slowapi | 3.20 | 10% |  |  |\n\n"
                               "busy = CPU seconds / (wall seconds \xc3\x97 CPUs). Measured: "
                               "container cgroup: CPU time, peak memory with page cache.\n\n"
                               "**Warning: loadgen was 93% busy: this run may measure loadgen, not "
                               "the server.**\n\n## Environment\n"));
    free(md);
    /* Just under 90%: no warning (it reads 90% rounded). */
    json_object_set_new(json_object_get(res, "loadgen"), "cpu_seconds", json_real(28.34));
    text = run_report_summary(run, res);
    assert_non_null(strstr(text, "; loadgen 28.34 CPU s (90% busy);"));
    assert_null(strstr(text, "Warning"));
    free(text);
    /* slowapi busy: its own warning. */
    json_object_set_new(json_object_get(res, "slowapi"), "cpu_seconds", json_real(31.0));
    md = run_report_markdown(run, res);
    assert_non_null(strstr(md, "\n**Warning: slowapi was 98% busy: this run may measure slowapi, "
                               "not the server.**\n"));
    assert_null(strstr(md, "Warning: loadgen"));
    free(md);
    json_decref(res);
    json_decref(run);
}

/* A server 75% busy or more of its CPUs was CPU-bound: a line says so, in
 * bold in the Markdown, before any helper's warning. */
static void test_cpu_bound(void **state)
{
    (void)state;
    json_t *run = parse(schema3_run), *res = parse(resources_2);
    json_object_set_new(res, "cpu_seconds", json_real(30.0)); /* 95% of 31.5 s x 1 */
    char *text = run_report_summary(run, res);
    assert_non_null(strstr(text, " (95% busy), peak memory 430.9 MiB, 20.00 CPU ms per request; "
                                 "loadgen 29.30 CPU s (93% busy); slowapi 3.20 CPU s (10% busy)\n"
                                 "CPU-bound: the server was 95% busy on its 1 CPU while loadgen "
                                 "ran, so its CPU, not its concurrency model, set its rate.\n"
                                 "Warning: loadgen was 93% busy"));
    free(text);
    char *md = run_report_markdown(run, res);
    assert_non_null(strstr(md, "| server | 30.00 | 95% | 430.9 | 20.00 |\n"));
    assert_non_null(strstr(md, "peak memory with page cache.\n\n**CPU-bound: the server was 95% "
                               "busy on its 1 CPU while loadgen ran, so its CPU, not its concurrency "
                               "model, set its rate.**\n\n**Warning: loadgen was 93% busy"));
    free(md);
    /* The server's own life is longer (its start and tear-down, idle): 75%
     * busy over it, still 95% while loadgen ran, so CPU-bound. */
    json_object_set_new(res, "wall_seconds", json_real(40.0));
    text = run_report_summary(run, res);
    assert_non_null(strstr(text, " (75% busy), peak memory"));
    assert_non_null(strstr(text, "CPU-bound: the server was 95% busy on its 1 CPU while"));
    assert_true(run_report_server_busy(res) > 0.95 && run_report_server_busy(res) < 0.96);
    free(text);
    json_object_set_new(res, "wall_seconds", json_real(31.5));
    /* The same CPU time on 2 CPUs: 48% busy, not CPU-bound. */
    json_object_set_new(res, "cpus", json_integer(2));
    text = run_report_summary(run, res);
    assert_non_null(strstr(text, "(48% busy)"));
    assert_null(strstr(text, "CPU-bound"));
    free(text);
    json_decref(res);
    json_decref(run);
}

/* Schema 1 resources: the server's CPU and memory, no busy, no helpers. */
static void test_resources_schema1(void **state)
{
    (void)state;
    json_t *run = load(FIXTURES "schema2_single-thread_io.json");
    json_t *res = parse("{\"variant\":\"single-thread\",\"workload\":\"io\",\"cpu_seconds\":0.59,"
                        "\"peak_memory_mib\":30.3,\"measured\":\"processes\"}");
    char *text = run_report_summary(run, res);
    assert_non_null(strstr(text, "\nResources: server 0.59 CPU s, peak memory 30.3 MiB, 20.34 CPU ms "
                                 "per request\n"));
    free(text);
    char *md = run_report_markdown(run, res);
    assert_non_null(strstr(md, "| server | 0.59 |  | 30.3 | 20.34 |\n\nbusy = "));
    assert_null(strstr(md, "| loadgen"));
    free(md);
    json_decref(res);
    json_decref(run);
}

static void test_busy(void **state)
{
    (void)state;
    json_t *p = parse("{\"cpu_seconds\":3.0,\"wall_seconds\":2.0,\"cpus\":2}");
    assert_true(run_report_busy(p) == 0.75);
    json_object_set_new(p, "cpus", json_integer(0));
    assert_true(run_report_busy(p) == -1);
    json_object_set_new(p, "cpus", json_integer(1));
    json_object_del(p, "wall_seconds");
    assert_true(run_report_busy(p) == -1);
    assert_true(run_report_busy(NULL) == -1);
    json_decref(p);
}

/* Whatever is missing, the text is made: absent fields are left out or
 * read n/a, never a crash. */
static void test_sparse_input(void **state)
{
    (void)state;
    json_t *empty = parse("{}");
    char *text = run_report_summary(empty, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "Time per request:     n/a [ms] (mean)\n 50%   n/a\n"));
    assert_non_null(strstr(text, "Ceiling: n/a (not computed)\n"));
    free(text);
    char *md = run_report_markdown(empty, json_object_get(empty, "nothing"));
    assert_non_null(md);
    assert_non_null(strstr(md, "# unknown / unknown (unknown)\n"));
    free(md);
    json_decref(empty);
}

/* ---- the open loop (a steps run: 20, 40, 80 req/s for 5 s each) ---- */

#define OPEN_STEPS FIXTURES "schema3_threadpool-50_io_open_steps"
#define OPEN_CHART "schema3_threadpool-50_io_open_steps.latency.svg"

/* Its Markdown with the chart labreport draws, and its summary, as the
 * golden files hold them. */
static void test_open_loop_golden(void **state)
{
    (void)state;
    json_t *run = load(OPEN_STEPS ".json");
    char *want = slurp(OPEN_STEPS ".md");
    run_report_md_options_t with_chart = {NULL, OPEN_CHART};
    char *md = run_report_markdown_with(run, &with_chart);
    assert_non_null(md);
    if (strcmp(md, want) != 0)
        fail_msg("the open loop's Markdown differs; rendered:\n%s", md);
    free(md);
    free(want);
    want = slurp(OPEN_STEPS ".summary");
    char *text = run_report_summary(run, NULL);
    assert_non_null(text);
    if (strcmp(text, want) != 0)
        fail_msg("the open loop's summary differs; rendered:\n%s", text);
    free(text);
    free(want);
    json_decref(run);
}

static long long jint(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", key);
    return (long long)json_integer_value(v);
}

/* The fixture is hand-made but consistent, as loadgen's reports must be:
 * issued + late = planned, each column of the series sums to the
 * summary's total, the steps to the run's, and the spectrum ends at the
 * maximum over every response. */
static void test_open_loop_fixture_consistent(void **state)
{
    (void)state;
    json_t *run = load(OPEN_STEPS ".json");
    const json_t *s = json_object_get(run, "summary");
    assert_int_equal(jint(s, "issued") + jint(s, "late"), jint(s, "planned"));
    static const char *const columns[] = {"issued", "ok", "timeouts", "late", "unfinished"};
    long long sums[5] = {0}, http = 0;
    size_t i;
    const json_t *point, *step;
    json_array_foreach(json_object_get(json_object_get(run, "series"), "points"), i, point) {
        for (size_t k = 0; k < 5; k++)
            sums[k] += jint(point, columns[k]);
        http += jint(point, "http_errors");
    }
    for (size_t k = 0; k < 5; k++)
        assert_int_equal(sums[k], jint(s, columns[k]));
    assert_int_equal(http, 0);
    assert_int_equal(json_object_size(json_object_get(s, "http_errors")), 0);
    long long planned = 0, issued = 0, late = 0;
    json_array_foreach(json_object_get(run, "steps"), i, step) {
        assert_int_equal(jint(step, "issued") + jint(step, "late"), jint(step, "planned"));
        planned += jint(step, "planned");
        issued += jint(step, "issued");
        late += jint(step, "late");
    }
    assert_int_equal(planned, jint(s, "planned"));
    assert_int_equal(issued, jint(s, "issued"));
    assert_int_equal(late, jint(s, "late"));
    const json_t *spectrum = json_object_get(run, "latency_spectrum");
    const json_t *last = json_array_get(spectrum, json_array_size(spectrum) - 1);
    assert_int_equal(jint(last, "count"), jint(s, "responses"));
    assert_true(json_number_value(json_object_get(last, "ms")) ==
                json_number_value(json_object_get(s, "max_ms")));
    assert_int_equal(jint(json_object_get(run, "samples"), "rows"), jint(s, "planned"));
    json_decref(run);
}

/* Without a drawn chart, the same Markdown less its "Over time" section:
 * run_report_markdown and the options without a chart agree. */
static void test_open_loop_without_chart(void **state)
{
    (void)state;
    json_t *run = load(OPEN_STEPS ".json");
    char *golden = slurp(OPEN_STEPS ".md");
    char *from = strstr(golden, "\n## Over time\n");
    char *to = strstr(golden, "\n## Latency percentile");
    assert_non_null(from);
    assert_non_null(to);
    memmove(from, to, strlen(to) + 1);
    char *md = run_report_markdown(run, NULL);
    assert_string_equal(md, golden);
    free(md);
    run_report_md_options_t none = {NULL, NULL};
    md = run_report_markdown_with(run, &none);
    assert_string_equal(md, golden);
    free(md);
    md = run_report_markdown_with(run, NULL);
    assert_string_equal(md, golden);
    free(md);
    /* A chart but no series points: no section either. */
    json_object_set_new(json_object_get(run, "series"), "points", json_array());
    run_report_md_options_t chart = {NULL, OPEN_CHART};
    md = run_report_markdown_with(run, &chart);
    assert_string_equal(md, golden);
    free(md);
    free(golden);
    json_decref(run);
}

/* A closed loop that states the new fields, null, renders as one without
 * them; so do the archived reports, whatever the options say. */
static void test_closed_loop_unchanged(void **state)
{
    (void)state;
    json_t *run = parse(schema3_run);
    char *md0 = run_report_markdown(run, NULL), *text0 = run_report_summary(run, NULL);
    json_t *cfg = json_object_get(run, "config"), *s = json_object_get(run, "summary");
    json_object_set_new(cfg, "load", json_string("closed"));
    json_object_set_new(cfg, "rate", json_null());
    json_object_set_new(s, "planned", json_null());
    json_object_set_new(s, "late", json_null());
    json_object_set_new(s, "mean_uncorrected_ms", json_null());
    static const char *const nulls[] = {"percentiles_uncorrected_ms", "latency_spectrum", "series",
                                        "steps", "checks", "samples"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        json_object_set_new(run, nulls[i], json_null());
    run_report_md_options_t chart = {NULL, "x.latency.svg"};
    char *md = run_report_markdown_with(run, &chart), *text = run_report_summary(run, NULL);
    assert_string_equal(md, md0);
    assert_string_equal(text, text0);
    free(md);
    free(text);
    free(md0);
    free(text0);
    json_decref(run);
    run = load(FIXTURES "schema2_single-thread_io.json");
    md = run_report_markdown_with(run, &chart);
    char *want = slurp(FIXTURES "schema2_single-thread_io.md");
    assert_string_equal(md, want);
    free(want);
    free(md);
    json_decref(run);
}

static void set_rate(json_t *run, const char *json)
{
    json_t *cfg = json_object_get(run, "config");
    json_object_set_new(cfg, "load", json_string("open"));
    json_object_set_new(cfg, "rate", parse(json));
}

static void test_load_text(void **state)
{
    (void)state;
    char buf[128];
    json_t *run = parse(schema3_run);
    assert_int_equal(run_report_load(run, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    set_rate(run, "{\"text\":\"90\",\"schedule\":\"constant\",\"rates\":[90.0],"
                  "\"ramp_s\":null,\"step_s\":null}");
    assert_int_equal(run_report_load(run, buf, sizeof buf), 1);
    assert_string_equal(buf, "open loop at 90 req/s (constant)");
    char *text = run_report_summary(run, NULL);
    assert_memory_equal(text, "Load: open loop at 90 req/s (constant)\nNumber of failure:", 57);
    free(text);
    set_rate(run, "{\"text\":\"50:400:10s\",\"schedule\":\"ramp\",\"rates\":[50,400],"
                  "\"ramp_s\":10.0,\"step_s\":null}");
    run_report_load(run, buf, sizeof buf);
    assert_string_equal(buf, "open loop from 50 to 400 req/s (ramp over 10 s, then 400 req/s)");
    set_rate(run, "{\"text\":\"50,100,200\",\"schedule\":\"steps\",\"rates\":[50,100,200],"
                  "\"ramp_s\":null,\"step_s\":10.0}");
    run_report_load(run, buf, sizeof buf);
    assert_string_equal(buf, "open loop at 50, 100, 200 req/s (steps of 10 s each)");
    /* Cut as snprintf cuts. */
    assert_int_equal(run_report_load(run, buf, 13), 1);
    assert_string_equal(buf, "open loop at");
    /* An open loop without its rate still says so. */
    json_object_set_new(json_object_get(run, "config"), "rate", json_null());
    run_report_load(run, buf, sizeof buf);
    assert_string_equal(buf, "open loop (--rate unknown)");
    json_decref(run);
}

/* The open ceiling names the rate it takes the minimum with: the offered
 * one, else a constant schedule's. */
static void test_open_ceiling(void **state)
{
    (void)state;
    json_t *run = parse(schema3_run);
    set_rate(run, "{\"text\":\"40\",\"schedule\":\"constant\",\"rates\":[40.0],"
                  "\"ramp_s\":null,\"step_s\":null}");
    json_t *c = json_object_get(run, "ceiling");
    json_object_set_new(c, "rps", json_real(40.0));
    json_object_set_new(c, "formula",
                        json_string("min(rate, min(concurrency, capacity) / delay_s)"));
    char *text = run_report_summary(run, NULL);
    assert_non_null(strstr(text, "\nCeiling: 40.0 rps (min(rate 40 rps, min(c=100, capacity=50) / "
                                 "delay 1 s = 50.0 rps)); measured/ceiling 1.000\n"));
    free(text);
    json_object_set_new(c, "offered_rps", json_real(40.0));
    json_object_set_new(c, "capacity", json_integer(0));
    text = run_report_summary(run, NULL);
    assert_non_null(strstr(text, "\nCeiling: 40.0 rps (min(offered 40.0 rps, min(c=100, "
                                 "capacity=unbounded) / delay 1 s = 100.0 rps)); "));
    free(text);
    json_decref(run);
}

/* A check without a value, units other than ms, and a closed loop's
 * spectrum (its latencies are not "corrected"). */
static void test_checks_and_spectrum(void **state)
{
    (void)state;
    json_t *run = parse(schema3_run);
    json_object_set_new(run, "checks",
                        parse("[{\"expr\":\"p99_uncorrected<2s\",\"metric\":\"p99_uncorrected\","
                              "\"op\":\"<\",\"threshold\":2.0,\"unit\":\"s\",\"value\":null,"
                              "\"pass\":false},{\"expr\":\"error_rate<1%\",\"metric\":"
                              "\"error_rate\",\"op\":\"<\",\"threshold\":1.0,\"unit\":\"%\","
                              "\"value\":0.5,\"pass\":true},{\"expr\":\"rps>45\",\"metric\":"
                              "\"rps\",\"op\":\">\",\"threshold\":45.0,\"unit\":null,"
                              "\"value\":50.0,\"pass\":true}]"));
    json_object_set_new(run, "latency_spectrum",
                        parse("[{\"percentile\":0.0,\"ms\":1000.4,\"count\":1},"
                              "{\"percentile\":0.5,\"ms\":2001.4,\"count\":750},"
                              "{\"percentile\":1.0,\"ms\":2130.1,\"count\":1500}]"));
    json_object_set_new(run, "samples", parse("{\"path\":\"x.samples.csv.gz\",\"rows\":1550}"));
    char *text = run_report_summary(run, NULL);
    assert_non_null(strstr(text, "measured/ceiling 1.000\n"
                                 "Check: p99_uncorrected<2s (not measured): FAIL\n"
                                 "Check: error_rate<1% (measured 0.5%): pass\n"
                                 "Check: rps>45 (measured 50): pass\n"
                                 "Samples: x.samples.csv.gz (1550 rows, one per request)\n"));
    assert_null(strstr(text, "Value(ms)"));
    free(text);
    char *md = run_report_markdown(run, NULL);
    assert_non_null(strstr(md, "measured/ceiling 1.000\n\n"
                               "Samples: `x.samples.csv.gz` (1550 rows, one per request)\n\n"
                               "## Checks\n\n| check | measured | result |\n|---|---:|---|\n"
                               "| `p99_uncorrected<2s` | not measured | **FAIL** |\n"
                               "| `error_rate<1%` | 0.5% | pass |\n| `rps>45` | 50 | pass |\n\n"
                               "## Latency percentile spectrum\n\nAs wrk2's `--latency` prints it, "
                               "over the latencies of the percentiles above"));
    assert_non_null(strstr(md, "```\n   Value(ms)   Percentile   TotalCount 1/(1-Percentile)\n\n"
                               "    1000.400     0.000000            1         1.00\n"
                               "    2001.400     0.500000          750         2.00\n"
                               "    2130.100     1.000000         1500          inf\n"
                               "#[Mean    =     1977.200]\n"
                               "#[Max     =     2130.100, Total count    =         1500]\n```\n\n"
                               "## Environment\n"));
    /* No uncorrected figures, no planned count: a closed loop's lines. */
    assert_null(strstr(md, "uncorrected (from"));
    assert_null(strstr(md, "| planned |"));
    free(md);
    json_decref(run);
}

/* The scenario section: a fault spec's expected outcome shares from the
 * fan-out (a reset retried once over HTTP/1.1, failing its call over
 * h2c) beside the measured ones; slow clients against a bounded model say
 * it starves and why its client timeout does not help; kills listed. No
 * scenario: no section. */
static void test_scenario(void **state)
{
    (void)state;
    json_t *run = parse(schema3_run);
    json_t *res = parse("{\"schema_version\":2,\"cpu_seconds\":1,\"peak_memory_mib\":1,"
                        "\"wall_seconds\":1,\"cpus\":1,\"faults\":\"error=5%,reset=2%,hang=1%\","
                        "\"fault_seed\":3,\"kill_worker_every_s\":5,\"worker_kills\":"
                        "[{\"at_s\":5.01,\"pid\":41},{\"at_s\":10.02,\"pid\":42}]}");
    json_object_set_new(json_object_get(run, "server"), "upstream_http", json_string("1.1"));
    json_object_set_new(json_object_get(run, "server"), "upstream_timeout_ms", json_integer(5000));
    json_object_set_new(json_object_get(run, "server"), "client_timeout_ms", json_integer(60000));
    json_object_set_new(run, "slow_clients",
                        json_pack("{s:i, s:f, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, "
                                  "s:{s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:f}}",
                                  "count", 60, "interval_s", 1.0, "connected_at_start", 60,
                                  "held_at_end", 60, "connects", 60, "connect_errors", 0,
                                  "closed_by_server", 0, "answered_408", 0, "answered_431", 0,
                                  "answered_other", 0, "held_max_s", 0.0, "healthz_probe",
                                  "interval_ms", 200, "timeout_ms", 5000, "probes", 6, "ok", 0,
                                  "failed", 6, "p50_ms", 5000.1, "p99_ms", 5000.3, "max_ms",
                                  5000.3));
    char *md = run_report_markdown(run, res);
    assert_non_null(md);
    assert_non_null(strstr(md, "\n## Scenario\n\nInjected faults: error=5%,reset=2%,hang=1% "
                               "(seed 3), drawn for each upstream call."));
    /* 0.92 x 1.02 per call, 10 calls: 53.0% ok; 504: 1 - (1 - 0.0102)^10. */
    assert_non_null(strstr(md, "| ok | 53.0% | 1500 | 100.0% |\n| 502 | 37.3% | 0 | 0.0% |\n"
                               "| 504 | 9.7% | 0 | 0.0% |\n"));
    assert_non_null(strstr(md, "504 once UPSTREAM_TIMEOUT (5 s) has passed"));
    /* 0.737 x 1 s + (0.903 - 0.737) x 2 s + 0.097 x 5 s; 100 x 0.530 / 1.555. */
    assert_non_null(strstr(md, "Expected mean latency: 1555 ms (measured 1977.2 ms)"));
    assert_non_null(strstr(md, "A closed loop of 100 clients then gets 34.1 ok responses a "
                               "second (measured 50.0)"));
    /* Verified against slowapi's count with the faults: 10 x 0.97 x 1.02. */
    assert_non_null(strstr(md, "(expected 10; 9.89 with the injected faults, whose hung and "
                               "reset calls slowapi never answers): over"));
    assert_non_null(strstr(md, "they can hold all 50 of its places, so the model starves"));
    assert_non_null(strstr(md, "CLIENT_TIMEOUT (60 s) limits each read"));
    assert_non_null(strstr(md, "Worker kills: kill -9 of one worker every 5 s: 2 kills at 5.0 s "
                               "(pid 41), 10.0 s (pid 42)."));
    free(md);
    char *text = run_report_summary(run, res);
    assert_non_null(strstr(text, "Scenario: faults error=5%,reset=2%,hang=1% (seed 3); 60 slow "
                                 "clients (/healthz p99 5000.3 ms, 6 of 6 probes failed); 2 "
                                 "worker kills\n"));
    free(text);
    /* Over h2c a reset fails its call: 0.92^10 = 43.4% ok. */
    json_object_set_new(json_object_get(run, "server"), "upstream_http", json_string("2"));
    md = run_report_markdown(run, res);
    assert_non_null(strstr(md, "| ok | 43.4% |"));
    assert_non_null(strstr(md, "A reset stream fails its call (h2c upstream)."));
    free(md);
    json_decref(res);
    json_object_del(run, "slow_clients");
    md = run_report_markdown(run, NULL);
    assert_null(strstr(md, "## Scenario"));
    free(md);
    json_decref(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_archived_markdown_byte_identical),
        cmocka_unit_test(test_archived_summary),
        cmocka_unit_test(test_schema3_summary),
        cmocka_unit_test(test_schema3_verify_lines),
        cmocka_unit_test(test_schema3_markdown),
        cmocka_unit_test(test_resources),
        cmocka_unit_test(test_resources_schema1),
        cmocka_unit_test(test_cpu_bound),
        cmocka_unit_test(test_busy),
        cmocka_unit_test(test_sparse_input),
        cmocka_unit_test(test_open_loop_golden),
        cmocka_unit_test(test_open_loop_fixture_consistent),
        cmocka_unit_test(test_open_loop_without_chart),
        cmocka_unit_test(test_closed_loop_unchanged),
        cmocka_unit_test(test_load_text),
        cmocka_unit_test(test_open_ceiling),
        cmocka_unit_test(test_checks_and_spectrum),
        cmocka_unit_test(test_scenario),
    };
    return cmocka_run_group_tests_name("run report rendering", tests, NULL, NULL);
}
