/* labreport merge (labreport/merge.c): two loadgens' reports of one run
 * as one. The counts are their sums, the percentiles those of every
 * request in both samples files (as `labreport samples` gives them), the
 * mean, min and max from the same; the ceiling for all the clients; the
 * upstream calls from the earliest reading before to the latest after;
 * each loadgen kept in instances. Reports without samples, or of another
 * run, are refused; the output is never replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labreport.h"
#include "files.h"
#include "jsonutil.h"
#include "labreport_fixture.h"
#include "merge.h"
#include "samples.h"
#include "samples_file.h"

#define ROWS 200

/* Loadgen i's report: c = 10, issued ROWS, responses 1000 + k ms (k its
 * row) plus an offset, its samples file beside it; readings of slowapi's
 * counter from before to after. */
static void write_loadgen(const char *dir, int i, long long offset_ms, long long before,
                          long long after)
{
    lab_sample_t rows[ROWS];
    for (int k = 0; k < ROWS; k++) {
        int64_t sent = (int64_t)k * 50000000;
        rows[k] = (lab_sample_t){.planned_ns = sent, .sent_ns = sent,
                                 .end_ns = sent + (1000 + k + offset_ms) * 1000000LL,
                                 .status = 200, .bucket = LAB_BUCKET_OK};
    }
    char path[PATH_MAX + 64], name[64], err[256];
    snprintf(name, sizeof name, "run_%d.samples.csv.gz", i);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(samples_file_write(path, NULL, rows, ROWS, err, sizeof err), 0);
    json_t *run = lrf_run(3, "event-loop", 10, 9.8 + i, 1100.0, 0);
    json_object_set_new(run, "instance", json_sprintf("%d", i));
    json_t *s = json_object_get(run, "summary");
    json_object_set_new(s, "issued", json_integer(ROWS));
    json_object_set_new(s, "ok", json_integer(ROWS));
    json_object_set_new(s, "responses", json_integer(ROWS));
    json_object_set_new(run, "samples", json_pack("{s:s, s:i}", "path", name, "rows", ROWS));
    json_t *v = json_object_get(run, "verify");
    json_object_set_new(v, "calls_before", json_integer(before));
    json_object_set_new(v, "calls_after", json_integer(after));
    json_object_set_new(v, "upstream_calls", json_integer(after - before));
    json_object_set_new(v, "answered", json_integer(ROWS));
    snprintf(name, sizeof name, "run_%d.json", i);
    assert_int_equal(lrf_write_json(dir, name, run), 0); /* takes run */
}

static void test_merge(void **state)
{
    const char *dir = *state;
    write_loadgen(dir, 1, 0, 100, 4000);
    write_loadgen(dir, 2, 7, 150, 4100);
    char a[PATH_MAX + 16], b[PATH_MAX + 16], out[PATH_MAX + 16], err[512];
    snprintf(a, sizeof a, "%s/run_1.json", dir);
    snprintf(b, sizeof b, "%s/run_2.json", dir);
    snprintf(out, sizeof out, "%s/merged.json", dir);
    const char *paths[] = {a, b};
    assert_int_equal(lr_merge(out, paths, 2, err, sizeof err), LR_EXIT_OK);
    json_t *m = lr_json_load(out, err, sizeof err);
    assert_non_null(m);
    const json_t *s = json_object_get(m, "summary");
    assert_int_equal(json_integer_value(json_object_get(s, "issued")), 2 * ROWS);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "config"),
                                                        "concurrency")), 20);
    assert_float_equal(lr_jnum_get(s, "rps"), 10.8 + 11.8, 1e-9);
    /* The percentiles of all 400 requests, as labreport samples has them. */
    char s1[PATH_MAX + 32], s2[PATH_MAX + 32];
    snprintf(s1, sizeof s1, "%s/run_1.samples.csv.gz", dir);
    snprintf(s2, sizeof s2, "%s/run_2.samples.csv.gz", dir);
    lr_samples_t all;
    lr_samples_init(&all);
    assert_int_equal(lr_samples_add(&all, s1, err, sizeof err), 0);
    assert_int_equal(lr_samples_add(&all, s2, err, sizeof err), 0);
    lr_samples_sort(&all);
    json_t *expected = lr_samples_json(&all);
    assert_true(json_equal(json_object_get(m, "percentiles_ms"),
                           json_object_get(expected, "percentiles_ms")));
    /* Requests of 1000..1199 ms and 1007..1206 ms: p50 is the 200th of
     * 400, 1103 ms (101 + 99 below it: 1000..1100 and 1007..1103). */
    assert_float_equal(lr_jnum_get(json_object_get(m, "percentiles_ms"), "50"), 1103.0, 1e-9);
    assert_float_equal(lr_jnum_get(s, "min_ms"), 1000.0, 1e-9);
    assert_float_equal(lr_jnum_get(s, "max_ms"), 1206.0, 1e-9);
    assert_float_equal(lr_jnum_get(s, "mean_ms"), 1103.0, 1e-9);
    json_decref(expected);
    lr_samples_free(&all);
    /* The ceiling for 20 clients at 1 s; calls from 100 to 4100. */
    assert_float_equal(lr_jnum_at(m, "ceiling", "rps"), 20.0, 1e-9);
    const json_t *v = json_object_get(m, "verify");
    assert_int_equal(json_integer_value(json_object_get(v, "upstream_calls")), 4000);
    assert_int_equal(json_integer_value(json_object_get(v, "answered")), 2 * ROWS);
    assert_string_equal(json_string_value(json_object_get(v, "verdict")), "ok");
    const json_t *inst = json_object_get(m, "instances");
    assert_int_equal(json_array_size(inst), 2);
    assert_string_equal(lr_jstr_get(json_array_get(inst, 1), "instance"), "2");
    assert_string_equal(lr_jstr_get(json_array_get(inst, 0), "report"), "run_1.json");
    assert_null(json_object_get(m, "instance"));
    assert_true(json_is_null(json_object_get(m, "series")));
    json_decref(m);
    /* Never replaced. */
    assert_int_equal(lr_merge(out, paths, 2, err, sizeof err), LR_EXIT_FAIL);
}

/* Without samples, or of two runs: refused, saying why. */
static void test_refused(void **state)
{
    const char *dir = *state;
    write_loadgen(dir, 1, 0, 100, 4000);
    json_t *other = lrf_run(3, "threadpool-50", 10, 9.0, 1100.0, 0);
    assert_int_equal(lrf_write_json(dir, "other.json", json_incref(other)), 0);
    char a[PATH_MAX + 16], b[PATH_MAX + 16], out[PATH_MAX + 16], err[512];
    snprintf(a, sizeof a, "%s/run_1.json", dir);
    snprintf(b, sizeof b, "%s/other.json", dir);
    snprintf(out, sizeof out, "%s/merged.json", dir);
    const char *paths[] = {a, b};
    assert_int_equal(lr_merge(out, paths, 2, err, sizeof err), LR_EXIT_FAIL);
    assert_non_null(strstr(err, "not of one run: variant differs"));
    json_object_set_new(other, "variant", json_string("event-loop"));
    assert_int_equal(lrf_write_json(dir, "other2.json", json_incref(other)), 0);
    snprintf(b, sizeof b, "%s/other2.json", dir);
    assert_int_equal(lr_merge(out, paths, 2, err, sizeof err), LR_EXIT_FAIL);
    assert_non_null(strstr(err, "has no samples file"));
    json_decref(other);
}

static int setup(void **state)
{
    *state = lrf_fixture_new(PATH_MAX);
    return *state ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_merge, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, lrf_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
