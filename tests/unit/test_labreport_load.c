/* labreport/load.c: run reports of schema 1, 2 and 3 and resources files
 * of schema 1 and 2 load into one struct; what an older schema lacks is
 * NaN; bad input is refused with a message, never a crash. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "labreport.h"
#include "labreport_fixture.h"
#include "load.h"

typedef struct fixture {
    char dir[PATH_MAX];
    char path[PATH_MAX + 64];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = lrf_fixture_new(sizeof *f);
    if (f == NULL)
        return -1;
    *state = f;
    return 0;
}

static const char *path_of(fixture_t *f, const char *name)
{
    int n = snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
    assert_true(n > 0 && (size_t)n < sizeof f->path);
    return f->path;
}

static void test_schema1_without_resources(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(lrf_write_json(f->dir, "a_io.json", lrf_run(1, "event-loop", 100, 98.951,
                                                                 1008.774, 0)), 0);
    lr_run_t run;
    char err[LR_ERR_MAX];
    assert_int_equal(lr_run_load(path_of(f, "a_io.json"), &run, err, sizeof err), 0);
    assert_int_equal(run.schema_version, 1);
    assert_string_equal(run.variant, "event-loop");
    assert_string_equal(run.workload, "io");
    assert_string_equal(run.name, "a_io.json");
    assert_int_equal(run.concurrency, 100);
    assert_true(run.rps == 98.951);
    assert_true(isnan(run.rps_error));
    assert_true(run.ceiling_rps == 100);
    assert_true(run.mean_ms == 1008.774);
    assert_true(run.pct_ms[0] == 1006.774); /* "50" */
    assert_true(run.pct_ms[6] == 1048.774); /* "99" */
    assert_true(isnan(run.calls_per_answer));
    assert_true(isnan(run.server_cpu_s) && isnan(run.cpu_ms_per_request));
    assert_null(run.resources);
    lr_run_free(&run);
}

static void test_schema2_with_resources1(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(lrf_write_json(f->dir, "b_io.json", lrf_run(2, "threadpool-50", 100, 50.6,
                                                                 1977.2, 2)), 0);
    assert_int_equal(lrf_write_json(f->dir, "b_io.server.json", lrf_server(1, 1.5, 0)), 0);
    lr_run_t run;
    char err[LR_ERR_MAX];
    assert_int_equal(lr_run_load(path_of(f, "b_io.json"), &run, err, sizeof err), 0);
    assert_int_equal(run.schema_version, 2);
    assert_non_null(run.resources);
    assert_true(run.failures == 2);
    assert_true(run.server_cpu_s == 1.5);
    assert_true(run.server_peak_mib == 30.5);
    /* 1.5 s over 3000 responses (no warm-up): 0.5 ms each */
    assert_true(fabs(run.cpu_ms_per_request - 0.5) < 1e-9);
    assert_true(isnan(run.loadgen_busy) && isnan(run.slowapi_busy));
    lr_run_free(&run);
}

static void test_schema3_with_resources2(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(lrf_write_json(f->dir, "c_io.json", lrf_run(3, "event-loop", 100, 99.6,
                                                                 1003.4, 0)), 0);
    assert_int_equal(lrf_write_json(f->dir, "c_io.server.json", lrf_server(2, 3.0, 28.5)), 0);
    lr_run_t run;
    char err[LR_ERR_MAX];
    assert_int_equal(lr_run_load(path_of(f, "c_io.json"), &run, err, sizeof err), 0);
    assert_int_equal(run.schema_version, 3);
    assert_true(run.rps_error == 0.4);
    assert_true(run.calls_per_answer == 9.1);
    assert_true(run.calls_expected == 10);
    assert_string_equal(run.verify_verdict, "short");
    assert_true(fabs(run.loadgen_busy - 0.95) < 1e-9);
    assert_true(fabs(run.slowapi_busy - 0.1) < 1e-9);
    assert_true(fabs(run.cpu_ms_per_request - 1.0) < 1e-9); /* 3 s / 3000 answered */
    lr_run_free(&run);
}

static void test_no_ceiling(void **state)
{
    (void)state;
    json_t *r = lrf_run(2, "single-thread", 100, 22.5, 4567, 0);
    json_object_set_new(r, "ceiling", json_null());
    json_object_set_new(r, "percentiles_ms", json_null());
    lr_run_t run;
    char err[LR_ERR_MAX];
    assert_int_equal(lr_run_from_json(r, NULL, "x.json", &run, err, sizeof err), 0);
    assert_true(isnan(run.ceiling_rps) && isnan(run.of_ceiling));
    assert_true(isnan(run.pct_ms[0]));
    assert_true(run.max_ms == 4567 + 70); /* summary.max_ms */
    lr_run_free(&run);
}

static void expect_refused(fixture_t *f, const char *name, const char *text, const char *why)
{
    assert_int_equal(lrf_write(f->dir, name, text), 0);
    lr_run_t run;
    char err[LR_ERR_MAX] = "";
    assert_int_equal(lr_run_load(path_of(f, name), &run, err, sizeof err), -1);
    if (strstr(err, why) == NULL)
        fail_msg("%s: \"%s\" does not say \"%s\"", name, err, why);
    assert_null(run.json);
}

static void test_bad_input_refused(void **state)
{
    fixture_t *f = *state;
    expect_refused(f, "broken.json", "{\"schema_version\": 2,", "not valid JSON");
    expect_refused(f, "array.json", "[1, 2]", "not a JSON object");
    expect_refused(f, "future.json", "{\"schema_version\": 4, \"variant\": \"v\"}",
                   "schema_version 1 to 3");
    expect_refused(f, "nosummary.json",
                   "{\"schema_version\": 2, \"variant\": \"v\", \"workload\": \"io\"}",
                   "\"summary\"");
    expect_refused(f, "noc.json",
                   "{\"schema_version\": 2, \"variant\": \"v\", \"workload\": \"io\", "
                   "\"summary\": {\"rps\": 1}, \"config\": {\"concurrency\": \"x\"}}",
                   "config.concurrency");
    lr_run_t run;
    char err[LR_ERR_MAX] = "";
    assert_int_equal(lr_run_load(path_of(f, "missing.json"), &run, err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
}

static void test_bad_resources_refused(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(lrf_write_json(f->dir, "d_io.json", lrf_run(2, "v", 10, 9.9, 1000, 0)), 0);
    assert_int_equal(lrf_write(f->dir, "d_io.server.json", "{\"schema_version\": 9}"), 0);
    lr_run_t run;
    char err[LR_ERR_MAX] = "";
    assert_int_equal(lr_run_load(path_of(f, "d_io.json"), &run, err, sizeof err), -1);
    assert_non_null(strstr(err, ".server.json"));
}

static void test_is_run_report(void **state)
{
    (void)state;
    json_t *r = lrf_run(3, "v", 10, 9.9, 1000, 0);
    assert_true(lr_is_run_report(r));
    json_decref(r);
    r = json_pack("{s:s}", "kind", "matrix-plan");
    assert_false(lr_is_run_report(r));
    json_decref(r);
    assert_false(lr_is_run_report(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema1_without_resources, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_schema2_with_resources1, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_schema3_with_resources2, setup, lrf_teardown),
        cmocka_unit_test(test_no_ceiling),
        cmocka_unit_test_setup_teardown(test_bad_input_refused, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_bad_resources_refused, setup, lrf_teardown),
        cmocka_unit_test(test_is_run_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
