/* labreport/compare.c: the verdict per metric ("changed" only beyond the
 * noise threshold and, with repeats on both sides, beyond the larger
 * min-max spread), its direction, and compare's exit status with
 * --fail-on-regression. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "compare.h"
#include "labreport.h"
#include "labreport_fixture.h"

static lr_stat_t st(double median, double min, double max, size_t n)
{
    return (lr_stat_t){median, min, max, n};
}

static void test_clearly_different_repeats_changed(void **state)
{
    (void)state;
    lr_stat_t a = st(99.6, 99.1, 99.8, 3), b = st(80.0, 79.0, 81.0, 3);
    assert_int_equal(lr_compare_verdict(&a, &b, 1, LR_NOISE_RPS_PCT), LR_VERDICT_WORSE);
    assert_int_equal(lr_compare_verdict(&b, &a, 1, LR_NOISE_RPS_PCT), LR_VERDICT_BETTER);
}

static void test_close_repeats_within_noise(void **state)
{
    (void)state;
    lr_stat_t a = st(99.6, 99.1, 99.8, 3), b = st(99.3, 98.9, 99.7, 3);
    assert_int_equal(lr_compare_verdict(&a, &b, 1, LR_NOISE_RPS_PCT), LR_VERDICT_NOISE);
}

static void test_repeats_spread_wins_over_threshold(void **state)
{
    (void)state;
    /* 5% apart, beyond 2%, but each side's repeats spread over 20%. */
    lr_stat_t a = st(100, 90, 110, 3), b = st(95, 85, 105, 3);
    assert_int_equal(lr_compare_verdict(&a, &b, 1, LR_NOISE_RPS_PCT), LR_VERDICT_NOISE);
}

static void test_single_runs_threshold(void **state)
{
    (void)state;
    lr_stat_t a = st(100, 100, 100, 1), b = st(97, 97, 97, 1), c = st(99, 99, 99, 1);
    assert_int_equal(lr_compare_verdict(&a, &b, 1, LR_NOISE_RPS_PCT), LR_VERDICT_WORSE);
    assert_int_equal(lr_compare_verdict(&a, &c, 1, LR_NOISE_RPS_PCT), LR_VERDICT_NOISE);
    /* One side repeated, the other not: the threshold alone decides. */
    lr_stat_t r = st(97, 90, 104, 3);
    assert_int_equal(lr_compare_verdict(&a, &r, 1, LR_NOISE_RPS_PCT), LR_VERDICT_WORSE);
}

static void test_lower_is_better_for_latency(void **state)
{
    (void)state;
    lr_stat_t fast = st(1000, 1000, 1000, 1), slow = st(1100, 1100, 1100, 1);
    assert_int_equal(lr_compare_verdict(&fast, &slow, 0, LR_NOISE_LATENCY_PCT),
                     LR_VERDICT_WORSE);
    assert_int_equal(lr_compare_verdict(&slow, &fast, 0, LR_NOISE_LATENCY_PCT),
                     LR_VERDICT_BETTER);
    lr_stat_t near = st(1030, 1030, 1030, 1);
    assert_int_equal(lr_compare_verdict(&fast, &near, 0, LR_NOISE_LATENCY_PCT),
                     LR_VERDICT_NOISE);
}

static void test_from_zero_and_missing(void **state)
{
    (void)state;
    lr_stat_t zero = st(0, 0, 0, 1), two = st(2, 2, 2, 1), none = st(NAN, NAN, NAN, 0);
    assert_int_equal(lr_compare_verdict(&zero, &two, 0, LR_NOISE_FAILURES_PCT),
                     LR_VERDICT_WORSE);
    assert_int_equal(lr_compare_verdict(&zero, &zero, 0, LR_NOISE_FAILURES_PCT),
                     LR_VERDICT_NOISE);
    assert_int_equal(lr_compare_verdict(&none, &two, 0, LR_NOISE_FAILURES_PCT), LR_VERDICT_NA);
}

typedef struct fixture {
    char dir[PATH_MAX];
    char a[PATH_MAX + 32];
    char b[PATH_MAX + 32];
} fixture_t;

/* Two runs of one variant: B's mean latency 20% above A's. */
static int setup(void **state)
{
    fixture_t *f = lrf_fixture_new(sizeof *f);
    if (f == NULL)
        return -1;
    if (lrf_write_json(f->dir, "a.json", lrf_run(2, "event-loop", 100, 99.6, 1000, 0)) < 0 ||
        lrf_write_json(f->dir, "b.json", lrf_run(2, "event-loop", 100, 99.5, 1200, 0)) < 0)
        return -1;
    snprintf(f->a, sizeof f->a, "%s/a.json", f->dir);
    snprintf(f->b, sizeof f->b, "%s/b.json", f->dir);
    *state = f;
    return 0;
}

static int compare(const char *a, const char *b, int fail_on_regression, char *out, size_t cap)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    lr_compare_opts_t opts = {.noise_pct = NAN, .fail_on_regression = fail_on_regression};
    char err[LR_ERR_MAX] = "";
    int status = lr_compare(a, b, &opts, f, err, sizeof err);
    rewind(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
    return status;
}

static void test_fail_on_regression_direction(void **state)
{
    fixture_t *f = *state;
    char out[8192];
    assert_int_equal(compare(f->a, f->b, 1, out, sizeof out), LR_EXIT_FAIL);
    assert_non_null(strstr(out, "| mean ms | 1000.0 | 1200.0 | +20.0% | changed (worse) |"));
    assert_non_null(strstr(out, "| rps | 99.6 | 99.5 | -0.1% | within noise |"));
    /* The other way round it is an improvement: no failure. */
    assert_int_equal(compare(f->b, f->a, 1, out, sizeof out), LR_EXIT_OK);
    assert_non_null(strstr(out, "changed (better)"));
    /* Without the flag a regression is reported, not failed. */
    assert_int_equal(compare(f->a, f->b, 0, out, sizeof out), LR_EXIT_OK);
}

static void test_bad_inputs(void **state)
{
    fixture_t *f = *state;
    char out[8192], missing[PATH_MAX + 32];
    snprintf(missing, sizeof missing, "%s/missing.json", f->dir);
    assert_int_equal(compare(f->a, missing, 1, out, sizeof out), LR_EXIT_USAGE);
    /* A folder without report.json is not a matrix. */
    assert_int_equal(compare(f->dir, f->a, 1, out, sizeof out), LR_EXIT_USAGE);
    /* Nothing in common: a matrix without this (variant, concurrency). */
    assert_int_equal(lrf_write(f->dir, "m.json", "{\"kind\": \"matrix-report\", "
                               "\"schema_version\": 1, \"workload\": \"io\", \"rows\": []}"), 0);
    char m[PATH_MAX + 32];
    snprintf(m, sizeof m, "%s/m.json", f->dir);
    assert_int_equal(compare(f->a, m, 1, out, sizeof out), LR_EXIT_USAGE);
}

static void test_two_runs_of_other_variants(void **state)
{
    fixture_t *f = *state;
    /* Named on the command line, two runs compare whatever their variants. */
    assert_int_equal(lrf_write_json(f->dir, "c.json", lrf_run(2, "threadpool-5", 10, 49.8, 2000,
                                                              0)), 0);
    char c[PATH_MAX + 32], out[8192];
    snprintf(c, sizeof c, "%s/c.json", f->dir);
    assert_int_equal(compare(f->a, c, 1, out, sizeof out), LR_EXIT_FAIL);
    assert_non_null(strstr(out, "## A: `event-loop`, io, c=100, 1 run; "
                                "B: `threadpool-5`, io, c=10, 1 run"));
    assert_non_null(strstr(out, "| rps | 99.6 | 49.8 | -50.0% | changed (worse) |"));
}

static void test_settings_that_differ(void **state)
{
    fixture_t *f = *state;
    char out[8192], d[PATH_MAX + 32];
    /* The same settings: nothing said. */
    assert_int_equal(compare(f->a, f->b, 0, out, sizeof out), LR_EXIT_OK);
    assert_null(strstr(out, "Settings that differ"));
    /* A warm-up on one side only, and the other mode: both named. */
    json_t *run = lrf_run(2, "event-loop", 100, 99.9, 1001, 0);
    json_object_set_new(json_object_get(run, "config"), "warmup_s", json_real(2.0));
    json_object_set_new(run, "mode", json_string("docker"));
    assert_int_equal(lrf_write_json(f->dir, "d.json", run), 0);
    snprintf(d, sizeof d, "%s/d.json", f->dir);
    assert_int_equal(compare(f->a, d, 0, out, sizeof out), LR_EXIT_OK);
    assert_non_null(strstr(out, "Settings that differ (A / B): mode "));
    assert_non_null(strstr(out, "; warmup_s 0.0 / 2.0.\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clearly_different_repeats_changed),
        cmocka_unit_test(test_close_repeats_within_noise),
        cmocka_unit_test(test_repeats_spread_wins_over_threshold),
        cmocka_unit_test(test_single_runs_threshold),
        cmocka_unit_test(test_lower_is_better_for_latency),
        cmocka_unit_test(test_from_zero_and_missing),
        cmocka_unit_test_setup_teardown(test_fail_on_regression_direction, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_bad_inputs, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_two_runs_of_other_variants, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_settings_that_differ, setup, lrf_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
