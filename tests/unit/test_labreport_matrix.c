/* labreport/matrix.c and rebuild.c on small matrix folders made in a
 * temporary folder: the rows (median, min, max over repeats; flags;
 * published figures; reports), the skipped and failed points, refusals
 * of what is not a matrix, and that `report` rebuilds report.md, the
 * charts and each run's .md byte for byte. */
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
#include "published.h"
#include "rebuild.h"

typedef struct fixture {
    char dir[PATH_MAX];
    json_t *study;
} fixture_t;

static const char study_text[] =
    "{\"source\": \"test figures\", \"rows\": ["
    "{\"alias\": \"async-fastapi\", \"workload\": \"io\", \"config\": \"1\", \"rps\": 61.207,"
    " \"mean_ms\": 1444.4, \"failures\": 0, \"variants\": [\"event-loop\"]},"
    "{\"alias\": \"async-fastapi\", \"workload\": \"cpu\", \"config\": \"1\", \"rps\": 7.45,"
    " \"mean_ms\": 13047.5, \"failures\": 0, \"variants\": [\"event-loop\"]},"
    "{\"alias\": \"sync-uwsgi\", \"workload\": \"io\", \"config\": \"1x50\", \"rps\": 25.165,"
    " \"mean_ms\": 3544.0, \"failures\": 0, \"variants\": [\"threadpool-50\"]},"
    "{\"alias\": \"sync-gunicorn\", \"workload\": \"io\", \"config\": \"1x50\", \"rps\": 28.514,"
    " \"mean_ms\": 2964.7, \"failures\": 3, \"variants\": [\"threadpool-50\"]}]}";

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    char err[LR_ERR_MAX], data[PATH_MAX + 16];
    if (f == NULL || lrf_tempdir(f->dir, sizeof f->dir) < 0)
        return -1;
    snprintf(data, sizeof data, "%s/data", f->dir);
    if (mkdir(data, 0755) < 0 || lrf_write(data, LR_STUDY_FILE, study_text) < 0)
        return -1;
    f->study = lr_published_load(data, err, sizeof err);
    if (f->study == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    lrf_rmtree(f->dir);
    json_decref(f->study);
    free(f);
    return 0;
}

static json_t *plan_point(int index, const char *variant, long c, int repeat, const char *status,
                          const char *reason)
{
    return lrf_plan_point(index, variant, c, repeat, status, reason);
}

static void done_point(const char *dir, int index, json_t *run, json_t *server, double elapsed_s)
{
    assert_int_equal(lrf_done_point(dir, index, run, server, elapsed_s), 0);
}

static json_t *plan_of(json_t *points, json_t *sweep, int repeat)
{
    json_t *variants = json_pack(
        "[o, o, o]",
        lrf_variant("event-loop", "event-loop", "one loop", "FastAPI + uvicorn, one worker"),
        lrf_variant("threadpool-50", "threadpool", "50 threads", "uwsgi 1x50"),
        lrf_variant("single-thread", "single-thread", "one thread", "Flask dev server"));
    return lrf_plan(points, variants, sweep, repeat);
}

/* Three variants at c=100, two repeats: event-loop twice (loadgen busy,
 * calls short), threadpool-50 once done, once failed, once never ended;
 * single-thread skipped. */
static void make_matrix(const char *dir)
{
    char points[PATH_MAX + 16];
    snprintf(points, sizeof points, "%s/points", dir);
    assert_int_equal(mkdir(points, 0755), 0);
    json_t *list = json_array();
    json_array_append_new(list, plan_point(1, "event-loop", 100, 1, "planned", NULL));
    json_array_append_new(list, plan_point(2, "threadpool-50", 100, 1, "planned", NULL));
    json_array_append_new(list, plan_point(3, "single-thread", 100, 1, "skipped",
                                           "needs 22,000 descriptors"));
    json_array_append_new(list, plan_point(4, "event-loop", 100, 2, "planned", NULL));
    json_array_append_new(list, plan_point(5, "threadpool-50", 100, 2, "planned", NULL));
    json_array_append_new(list, plan_point(6, "threadpool-50", 100, 2, "planned", NULL));
    assert_int_equal(lrf_write_json(dir, "plan.json", plan_of(list, NULL, 2)), 0);
    done_point(dir, 1, lrf_run(3, "event-loop", 100, 99.6, 1003.4, 0), lrf_server(2, 3.0, 28.5),
               40.0);
    done_point(dir, 2, lrf_run(2, "threadpool-50", 100, 49.8, 2001.5, 0), lrf_server(1, 2.4, 0),
               41.0);
    done_point(dir, 4, lrf_run(3, "event-loop", 100, 99.2, 1004.0, 1), lrf_server(2, 3.3, 6.0),
               42.0);
    assert_int_equal(lrf_write(points, "005.json",
                               "{\"index\": 5, \"variant\": \"threadpool-50\", \"concurrency\": "
                               "100, \"repeat\": 2, \"status\": \"failed\", \"report\": null, "
                               "\"reason\": \"loadgen failed (exit status 1)\", "
                               "\"elapsed_s\": 9.5}"), 0);
}

static const json_t *row_at(const json_t *report, size_t i)
{
    return json_array_get(json_object_get(report, "rows"), i);
}

static double stat_at(const json_t *row, const char *key, const char *which)
{
    return lr_jnum_get(json_object_get(row, key), which);
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

static void test_rows(void **state)
{
    fixture_t *f = *state;
    make_matrix(f->dir);
    char err[LR_ERR_MAX] = "";
    json_t *r = lr_matrix_build(f->dir, f->study, err, sizeof err);
    if (r == NULL)
        fail_msg("%s", err);
    assert_string_equal(lr_jstr_get(r, "kind"), "matrix-report");
    assert_string_equal(lr_jstr_get(r, "published_source"), "test figures");
    assert_true(lr_jnum_get(r, "schema_version") == 2);
    assert_int_equal(json_array_size(json_object_get(r, "pairs")), 0); /* no Python */
    assert_int_equal(json_array_size(json_object_get(r, "rows")), 3);

    const json_t *loop = row_at(r, 0), *pool = row_at(r, 1), *single = row_at(r, 2);
    assert_string_equal(lr_jstr_get(loop, "variant"), "event-loop");
    assert_string_equal(lr_jstr_get(loop, "classic"), "FastAPI + uvicorn, one worker");
    assert_true(lr_jnum_get(loop, "runs") == 2);
    assert_true(lr_jnum_get(loop, "ceiling_rps") == 100);
    assert_true(stat_at(loop, "rps", "median") == 99.4);
    assert_true(stat_at(loop, "rps", "min") == 99.2);
    assert_true(stat_at(loop, "rps", "max") == 99.6);
    assert_true(stat_at(loop, "failures", "max") == 1);
    assert_true(stat_at(loop, "overhead_s", "median") == 11.0); /* 40 - 30, 42 - 30 */
    assert_true(stat_at(loop, "calls_per_answer", "median") == 9.1);
    assert_string_equal(lr_jstr_get(loop, "impl"), "c");
    assert_true(stat_at(loop, "server_busy", "median") == 0.105); /* 3.0 and 3.3 s of 30 */
    assert_true(has_flag(loop, "loadgen busy 95%: not measuring the server"));
    assert_true(has_flag(loop, "calls per answer 9.1, expected 10"));
    assert_int_equal(json_array_size(json_object_get(loop, "published")), 1);
    assert_int_equal(json_array_size(json_object_get(loop, "reports")), 2);

    assert_string_equal(lr_jstr_get(pool, "variant"), "threadpool-50");
    assert_true(lr_jnum_get(pool, "runs") == 1);
    assert_true(json_is_null(json_object_get(pool, "rps_error"))); /* schema 2 */
    assert_true(json_is_null(json_object_get(pool, "loadgen_busy"))); /* server.json 1 */
    assert_true(json_is_null(json_object_get(pool, "server_busy")));
    assert_true(stat_at(pool, "server_cpu_ms_per_request", "median") == 0.8);
    assert_true(has_flag(pool, "failed runs: 2"));
    assert_int_equal(json_array_size(json_object_get(pool, "published")), 2);

    assert_true(lr_jnum_get(single, "runs") == 0);
    assert_true(json_is_null(json_object_get(single, "rps")));
    assert_true(has_flag(single, "skipped runs: 1 (needs 22,000 descriptors)"));

    const json_t *skipped = json_object_get(r, "skipped"), *failed = json_object_get(r, "failed");
    assert_int_equal(json_array_size(skipped), 1);
    assert_int_equal(json_array_size(failed), 2);
    assert_string_equal(lr_jstr_get(json_array_get(failed, 0), "reason"),
                        "loadgen failed (exit status 1)");
    assert_non_null(strstr(lr_jstr_get(json_array_get(failed, 1), "reason"), "never ended"));
    assert_true(lr_jnum_at(r, "overhead_s", "runs") == 3);
    assert_true(lr_jnum_at(r, "overhead_s", "max") == 12);
    json_decref(r);
}

static void test_not_a_matrix(void **state)
{
    fixture_t *f = *state;
    char err[LR_ERR_MAX] = "";
    assert_null(lr_matrix_build(f->dir, f->study, err, sizeof err));
    assert_non_null(strstr(err, "no plan.json"));
    assert_int_equal(lrf_write(f->dir, "plan.json", "{\"kind\": \"something\"}"), 0);
    assert_null(lr_matrix_build(f->dir, f->study, err, sizeof err));
    assert_non_null(strstr(err, "not a matrix plan"));
    assert_int_equal(lrf_write(f->dir, "plan.json", "{\"kind\": "), 0);
    assert_null(lr_matrix_build(f->dir, f->study, err, sizeof err));
    assert_non_null(strstr(err, "not valid JSON"));
}

/* Two variants, c = 10 and 100, one repeat: a sweep. */
static void make_sweep(const char *dir)
{
    char points[PATH_MAX + 16];
    snprintf(points, sizeof points, "%s/points", dir);
    assert_int_equal(mkdir(points, 0755), 0);
    json_t *list = json_array();
    const char *variants[] = {"event-loop", "threadpool-50"};
    int index = 0;
    for (int c = 10; c <= 100; c *= 10)
        for (int v = 0; v < 2; v++) {
            json_array_append_new(list, plan_point(++index, variants[v], c, 1, "planned", NULL));
            double rps = v == 1 && c == 100 ? 49.8 : c * 0.99;
            done_point(dir, index, lrf_run(3, variants[v], c, rps, v ? 2001 : 1003, 0),
                       lrf_server(2, c * 0.03, 5.0), 38.5);
        }
    json_t *sweep = json_pack("{s:[i, i]}", "concurrency", 10, 100);
    assert_int_equal(lrf_write_json(dir, "plan.json", plan_of(list, sweep, 1)), 0);
}

static const char *const outputs[] = {"report.md",     "rps.svg",      "latency.svg",
                                      "cpu.svg",       "sweep_rps.svg", "sweep_p99.svg"};
#define OUTPUT_COUNT (sizeof outputs / sizeof outputs[0])

static int gnuplot_missing(void) { return system("command -v gnuplot >/dev/null 2>&1") != 0; }

/* matrix, then delete report.md and the charts, then report: the same
 * bytes. The run .md files that report writes come out the same twice. */
static void check_rebuild(fixture_t *f, size_t expected_outputs)
{
    char err[LR_ERR_MAX] = "";
    if (lr_matrix_write(f->dir, f->study, err, sizeof err) < 0)
        fail_msg("%s", err);
    char *before[OUTPUT_COUNT] = {NULL};
    size_t len[OUTPUT_COUNT] = {0}, found = 0;
    for (size_t i = 0; i < OUTPUT_COUNT; i++) {
        before[i] = lrf_read(f->dir, outputs[i], &len[i]);
        if (before[i] == NULL)
            continue;
        found++;
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/%s", f->dir, outputs[i]);
        assert_int_equal(unlink(path), 0);
    }
    assert_int_equal(found, expected_outputs);
    assert_int_equal(lr_rebuild(f->dir, err, sizeof err), 0);
    for (size_t i = 0; i < OUTPUT_COUNT; i++) {
        size_t n = 0;
        char *after = lrf_read(f->dir, outputs[i], &n);
        if (before[i] == NULL) {
            assert_null(after);
            continue;
        }
        assert_non_null(after);
        if (n != len[i] || memcmp(after, before[i], n) != 0)
            fail_msg("%s differs after the rebuild", outputs[i]);
        free(after);
        free(before[i]);
    }
    char *run_md = lrf_read(f->dir, "20261130T120100Z_event-loop_io.md", &len[0]);
    assert_non_null(run_md);
    assert_int_equal(lr_rebuild(f->dir, err, sizeof err), 0);
    size_t n = 0;
    char *again = lrf_read(f->dir, "20261130T120100Z_event-loop_io.md", &n);
    assert_non_null(again);
    assert_true(n == len[0] && memcmp(run_md, again, n) == 0);
    free(run_md);
    free(again);
}

static void test_rebuild_is_byte_identical(void **state)
{
    if (gnuplot_missing())
        skip(); /* the charts need gnuplot (Debian: gnuplot-nox) */
    fixture_t *f = *state;
    make_matrix(f->dir);
    check_rebuild(f, 4); /* report.md, rps, latency, cpu: no sweep */
    /* The busy loadgen's row is marked in the table itself. */
    char *md = lrf_read(f->dir, "report.md", NULL);
    assert_non_null(md);
    assert_non_null(strstr(md, "\n| `event-loop` **flagged** |"));
    free(md);
}

static void test_sweep_rebuild_is_byte_identical(void **state)
{
    if (gnuplot_missing())
        skip();
    fixture_t *f = *state;
    make_sweep(f->dir);
    char err[LR_ERR_MAX] = "";
    json_t *r = lr_matrix_build(f->dir, f->study, err, sizeof err);
    assert_non_null(r);
    assert_true(lr_report_is_sweep(r));
    assert_int_equal(lr_report_headline_c(r), 100);
    json_decref(r);
    check_rebuild(f, OUTPUT_COUNT);
    char *md = lrf_read(f->dir, "report.md", NULL);
    assert_non_null(md);
    assert_non_null(strstr(md, "| concurrency | 10, 100 (sweep) |"));
    assert_non_null(strstr(md, "![rps against concurrency](sweep_rps.svg)"));
    free(md);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_matrix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_is_byte_identical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_rebuild_is_byte_identical, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
