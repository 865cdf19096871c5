/* labreport's matrix for an open loop (run.sh --sweep rate=R,...), on a
 * hand-made matrix folder: rows per (variant, rate) with the offered rate,
 * the uncorrected p99 and the late requests; the ceiling min(rate, the
 * closed loop's); a point whose run is at another rate refused; failed
 * checks as flags; the "Latency against offered load" table and
 * latency-vs-rate.svg, rebuilt byte for byte; a closed matrix's rows
 * without any of the open loop's members. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "charts.h"
#include "jsonutil.h"
#include "labreport.h"
#include "labreport_fixture.h"
#include "matrix.h"
#include "open_row.h"
#include "rebuild.h"

static const int rates[] = {25, 50, 100};
#define RATE_COUNT (sizeof rates / sizeof rates[0])
static const char *const variants[] = {"event-loop", "threadpool-50"};
#define VARIANT_COUNT (sizeof variants / sizeof variants[0])

static int setup(void **state)
{
    char *dir = lrf_fixture_new(PATH_MAX);
    if (dir == NULL)
        return -1;
    *state = dir;
    return 0;
}


/* lrf_run made an open loop at a constant rate: the served rate, the
 * corrected p99 (uncorrected: the delay's), the late requests, loadgen's
 * ceiling (min(rate, closed): a report may say only the closed one) and,
 * unless NULL, one check's outcome. */
static json_t *open_run(const char *variant, double rate, double rps, double p99_ms,
                        double late, double ceiling, const char *check, int pass)
{
    json_t *run = lrf_run(3, variant, 100, rps, p99_ms - 40, 0);
    json_t *config = json_object_get(run, "config");
    char text[32];
    snprintf(text, sizeof text, "%g", rate);
    json_object_set_new(config, "load", json_string("open"));
    json_object_set_new(config, "rate",
                        json_pack("{s:s, s:s, s:[f], s:n, s:n}", "text", text, "schedule",
                                  "constant", "rates", rate, "ramp_s", "step_s"));
    json_object_set_new(run, "percentiles_uncorrected_ms",
                        json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "50", 1001.0,
                                  "60", 1001.0, "70", 1001.5, "80", 1002.0, "90", 1002.0, "95",
                                  1003.0, "99", 1004.5, "99.9", 1008.0, "100", 1010.0));
    json_object_set_new(json_object_get(run, "summary"), "late", json_real(late));
    json_t *c = json_object_get(run, "ceiling");
    json_object_set_new(c, "rps", json_real(ceiling));
    json_object_set_new(c, "measured_over_ceiling", json_real(rps / ceiling));
    if (check != NULL)
        json_object_set_new(run, "checks",
                            json_pack("[{s:s, s:s, s:s, s:f, s:s, s:f, s:b}]", "expr", check,
                                      "metric", "p99", "op", "<", "threshold", 1100.0, "unit",
                                      "ms", "value", p99_ms, "pass", pass));
    return run;
}

/* event-loop keeps up at every rate; threadpool-50 (50 threads: 50 rps at
 * 1 s) at 25 and 50, and past its ceiling at 100, where its p99 leaves the
 * delay and its check fails. Its run at 25 reports the closed ceiling (50):
 * the matrix makes it min(25, 50). */
static void make_rate_sweep(const char *dir)
{
    char points[PATH_MAX + 16];
    snprintf(points, sizeof points, "%s/points", dir);
    assert_int_equal(mkdir(points, 0755), 0);
    json_t *list = json_array();
    int index = 0;
    for (size_t r = 0; r < RATE_COUNT; r++)
        for (size_t v = 0; v < VARIANT_COUNT; v++) {
            json_t *point = lrf_plan_point(++index, variants[v], 100, 1, "planned", NULL);
            json_object_set_new(point, "rate", json_integer(rates[r]));
            json_array_append_new(list, point);
            int pool = v == 1, over = pool && rates[r] > 50;
            double served = over ? 49.8 : rates[r] * 0.998;
            double ceiling = pool ? (r == 0 ? 50 : fmin(rates[r], 50)) : rates[r];
            json_t *run = open_run(variants[v], rates[r], served, over ? 12040 : 1004.5,
                                   over ? 240 : 0, ceiling, "p99<1100ms", !over);
            assert_int_equal(lrf_done_point(dir, index, run, lrf_server(2, 2.0, 3.0), 40.0), 0);
        }
    json_t *variant_list = json_pack(
        "[o, o]", lrf_variant("event-loop", "event-loop", "one loop", "uvicorn"),
        lrf_variant("threadpool-50", "threadpool", "50 threads", "uwsgi 1x50"));
    json_t *plan = lrf_plan(list, variant_list, json_pack("{s:[i, i, i]}", "rate", 25, 50, 100), 1);
    json_object_set_new(json_object_get(plan, "settings"), "check", json_string("p99<1100ms"));
    assert_int_equal(lrf_write_json(dir, "plan.json", plan), 0);
}

static const json_t *row_at(const json_t *report, size_t i)
{
    return json_array_get(json_object_get(report, "rows"), i);
}

static double median(const json_t *row, const char *key)
{
    return lr_jnum_at(row, key, "median");
}

static int has_flag(const json_t *row, const char *text)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(row, "flags"), i, f) {
        if (strcmp(json_string_value(f), text) == 0)
            return 1;
    }
    return 0;
}

static void test_rows_per_rate(void **state)
{
    const char *dir = *state;
    make_rate_sweep(dir);
    char err[LR_ERR_MAX] = "";
    json_t *r = lr_matrix_build(dir, NULL, err, sizeof err);
    if (r == NULL)
        fail_msg("%s", err);
    assert_int_equal(json_array_size(json_object_get(r, "rows")), 6);
    assert_int_equal(json_array_size(json_object_get(r, "failed")), 0);
    /* The plan's order: each variant, then its rates. */
    for (size_t v = 0; v < VARIANT_COUNT; v++)
        for (size_t k = 0; k < RATE_COUNT; k++) {
            const json_t *row = row_at(r, v * RATE_COUNT + k);
            assert_string_equal(lr_jstr_get(row, "variant"), variants[v]);
            assert_true(lr_jnum_get(row, "rate") == rates[k]);
            assert_true(lr_jnum_get(row, "concurrency") == 100);
            assert_true(lr_jnum_get(row, "runs") == 1);
        }
    const json_t *pool25 = row_at(r, 3), *pool100 = row_at(r, 5), *loop100 = row_at(r, 2);
    assert_true(lr_jnum_get(pool25, "ceiling_rps") == 25); /* min(25, 50) */
    assert_true(lr_jnum_get(pool100, "ceiling_rps") == 50);
    assert_true(median(pool100, "p99_ms") == 12040);
    assert_true(median(pool100, "p99_uncorrected_ms") == 1004.5);
    assert_true(median(pool100, "late") == 240);
    assert_true(median(loop100, "late") == 0);
    assert_true(has_flag(pool100, "check failed: p99<1100ms (12040 ms)"));
    assert_false(has_flag(loop100, "check failed: p99<1100ms (1004.5 ms)"));

    assert_true(lr_report_is_rate_sweep(r));
    assert_false(lr_report_is_sweep(r));
    assert_true(lr_report_headline_rate(r) == 100);
    assert_string_equal(lr_jstr_get(json_object_get(r, "settings"), "check"), "p99<1100ms");
    json_decref(r);
}

static void test_run_at_another_rate_is_refused(void **state)
{
    const char *dir = *state;
    make_rate_sweep(dir);
    /* Point 1's report replaced by a run at 50 rps. */
    json_t *run = open_run("event-loop", 50, 49.9, 1004.5, 0, 50, NULL, 1);
    assert_int_equal(lrf_write_json(dir, "20261130T120100Z_event-loop_io.json", run), 0);
    char err[LR_ERR_MAX] = "";
    json_t *r = lr_matrix_build(dir, NULL, err, sizeof err);
    assert_non_null(r);
    const json_t *failed = json_object_get(r, "failed");
    assert_int_equal(json_array_size(failed), 1);
    assert_true(lr_jnum_get(json_array_get(failed, 0), "rate") == 25);
    assert_non_null(strstr(lr_jstr_get(json_array_get(failed, 0), "reason"),
                           "is a run at rate 50, not at this point's rate"));
    assert_true(lr_jnum_get(row_at(r, 0), "runs") == 0);
    json_decref(r);
}

static void test_chart_script(void **state)
{
    const char *dir = *state;
    make_rate_sweep(dir);
    char err[LR_ERR_MAX] = "";
    json_t *r = lr_matrix_build(dir, NULL, err, sizeof err);
    assert_non_null(r);
    lr_chart_t charts[LR_CHART_MAX];
    size_t n = lr_charts_of(r, charts), found = 0;
    for (size_t i = 0; i < n; i++)
        found += strcmp(charts[i].file, "latency-vs-rate.svg") == 0;
    assert_int_equal(found, 1);
    char *script = lr_chart_script(r, "latency-vs-rate.svg");
    assert_non_null(script);
    assert_non_null(strstr(script, "set logscale y 10"));
    assert_non_null(strstr(script, "set xtics (\"25\" 25, \"50\" 50, \"100\" 100)"));
    assert_non_null(strstr(script, "1000 with lines"));
    assert_non_null(strstr(script, "title \"the delay (1000 ms)\""));
    /* threadpool-50's line: p99 at each rate. */
    assert_non_null(strstr(script, "$v1 << EOD\n 25 1004.5\n 50 1004.5\n 100 12040\nEOD\n"));
    free(script);
    /* The per-variant charts show the highest rate. */
    script = lr_chart_script(r, "rps.svg");
    assert_non_null(script);
    assert_non_null(strstr(script, "(io, c=100, rate 100/s)"));
    free(script);
    json_decref(r);
}

static int gnuplot_missing(void) { return system("command -v gnuplot >/dev/null 2>&1") != 0; }

static const char *const outputs[] = {"report.md", "rps.svg", "latency.svg", "cpu.svg",
                                      "latency-vs-rate.svg"};
#define OUTPUT_COUNT (sizeof outputs / sizeof outputs[0])

static void test_report_rebuilds_byte_identical(void **state)
{
    if (gnuplot_missing())
        skip(); /* the charts need gnuplot (Debian: gnuplot-nox) */
    const char *dir = *state;
    make_rate_sweep(dir);
    char err[LR_ERR_MAX] = "";
    if (lr_matrix_write(dir, NULL, err, sizeof err) < 0)
        fail_msg("%s", err);
    char *before[OUTPUT_COUNT];
    size_t len[OUTPUT_COUNT];
    for (size_t i = 0; i < OUTPUT_COUNT; i++) {
        before[i] = lrf_read(dir, outputs[i], &len[i]);
        if (before[i] == NULL)
            fail_msg("no %s", outputs[i]);
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/%s", dir, outputs[i]);
        assert_int_equal(unlink(path), 0);
    }
    assert_int_equal(lr_rebuild(dir, err, sizeof err), 0);
    for (size_t i = 0; i < OUTPUT_COUNT; i++) {
        size_t n = 0;
        char *after = lrf_read(dir, outputs[i], &n);
        assert_non_null(after);
        if (n != len[i] || memcmp(after, before[i], n) != 0)
            fail_msg("%s differs after the rebuild", outputs[i]);
        free(after);
    }
    const char *md = before[0];
    assert_non_null(strstr(md, "| rate (requests/s) | 25, 50, 100 (sweep) |"));
    assert_non_null(strstr(md, "| checks | p99<1100ms |"));
    assert_non_null(strstr(md, "## Latency against offered load\n"));
    assert_non_null(strstr(md, "| `threadpool-50` | 100 | 49.8 | 50.0 | 11998.0 | 12040.0 | "
                               "1004.5 | 240 | 0 |\n"));
    assert_non_null(strstr(md, "- `threadpool-50` at rate 100: check failed: p99<1100ms "
                               "(12040 ms)\n"));
    assert_non_null(strstr(md, "![p99 latency against offered load: where it leaves the "
                               "delay](latency-vs-rate.svg)"));
    for (size_t i = 0; i < OUTPUT_COUNT; i++)
        free(before[i]);
}

/* A closed loop's rows have none of the open loop's members. */
static void test_closed_rows_unchanged(void **state)
{
    const char *dir = *state;
    char points[PATH_MAX + 16];
    snprintf(points, sizeof points, "%s/points", dir);
    assert_int_equal(mkdir(points, 0755), 0);
    json_t *list = json_pack("[o]", lrf_plan_point(1, "event-loop", 100, 1, "planned", NULL));
    json_t *variant_list =
        json_pack("[o]", lrf_variant("event-loop", "event-loop", "one loop", "uvicorn"));
    assert_int_equal(lrf_write_json(dir, "plan.json", lrf_plan(list, variant_list, NULL, 1)), 0);
    assert_int_equal(lrf_done_point(dir, 1, lrf_run(3, "event-loop", 100, 99.6, 1003.4, 0),
                                    NULL, 40.0), 0);
    char err[LR_ERR_MAX] = "";
    json_t *r = lr_matrix_build(dir, NULL, err, sizeof err);
    assert_non_null(r);
    const json_t *row = row_at(r, 0);
    assert_null(json_object_get(row, "rate"));
    assert_null(json_object_get(row, "p99_uncorrected_ms"));
    assert_null(json_object_get(row, "late"));
    assert_false(lr_report_is_rate_sweep(r));
    assert_true(isnan(lr_report_headline_rate(r)));
    json_decref(r);
}

/* compare and the C and Python pairs match rows by point: the same
 * concurrency and the same rate, or both closed. */
static void test_same_point(void **state)
{
    (void)state;
    json_t *closed = json_pack("{s:i}", "concurrency", 100);
    json_t *closed_200 = json_pack("{s:i}", "concurrency", 200);
    json_t *at_50 = json_pack("{s:i, s:f}", "concurrency", 100, "rate", 50.0);
    json_t *at_50_int = json_pack("{s:i, s:i}", "concurrency", 100, "rate", 50);
    json_t *at_75 = json_pack("{s:i, s:f}", "concurrency", 100, "rate", 75.0);
    assert_true(lr_same_point(closed, closed));
    assert_false(lr_same_point(closed, closed_200));
    assert_false(lr_same_point(closed, at_50));
    assert_true(lr_same_point(at_50, at_50_int));
    assert_false(lr_same_point(at_50, at_75));
    json_decref(closed);
    json_decref(closed_200);
    json_decref(at_50);
    json_decref(at_50_int);
    json_decref(at_75);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows_per_rate, setup, lrf_teardown),
        cmocka_unit_test(test_same_point),
        cmocka_unit_test_setup_teardown(test_run_at_another_rate_is_refused, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_chart_script, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_report_rebuilds_byte_identical, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_closed_rows_unchanged, setup, lrf_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
