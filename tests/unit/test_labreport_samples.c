/* labreport/samples.c: samples files merge exactly (the percentiles of all
 * the requests, not the average of each file's), the warm-up is left out
 * as in loadgen's report, and a bad file adds nothing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "labreport.h"
#include "labreport_fixture.h"
#include "samples.h"
#include "samples_file.h"

#define MS 1000000LL

typedef struct fixture {
    char dir[PATH_MAX];
    char a[PATH_MAX + 32], b[PATH_MAX + 32], bad[PATH_MAX + 32];
    char err[LR_ERR_MAX];
} fixture_t;

/* File A: responses with corrected latencies 1..100 ms, B: 101..200 ms;
 * each sent 0.5 ms after its plan. A also has a late row, a timeout and a
 * warm-up response far slower than the rest; B an http 503 among its
 * responses (latency 150 ms, its 50th) and a late row in the warm-up. */
static void write_runs(fixture_t *f)
{
    lab_sample_t rows[110];
    for (int part = 0; part < 2; part++) {
        size_t n = 0;
        for (int64_t i = 1; i <= 100; i++) {
            int64_t corrected = (i + part * 100) * MS, planned = i * 10 * MS;
            rows[n++] = (lab_sample_t){.planned_ns = planned, .sent_ns = planned + MS / 2,
                                       .end_ns = planned + corrected, .status = 200,
                                       .bucket = LAB_BUCKET_OK};
        }
        if (part == 0) {
            rows[n++] = (lab_sample_t){.planned_ns = 5 * MS, .sent_ns = -1, .end_ns = -1,
                                       .bucket = LAB_BUCKET_LATE};
            rows[n++] = (lab_sample_t){.planned_ns = 6 * MS, .sent_ns = 6 * MS,
                                       .end_ns = 30006 * MS, .bucket = LAB_BUCKET_TIMEOUT};
            rows[n++] = (lab_sample_t){.planned_ns = 0, .sent_ns = 0, .end_ns = 99999 * MS,
                                       .status = 200, .bucket = LAB_BUCKET_OK, .warmup = 1};
        } else {
            rows[49].bucket = LAB_BUCKET_HTTP;
            rows[49].status = 503;
            rows[n++] = (lab_sample_t){.planned_ns = 0, .sent_ns = -1, .end_ns = -1,
                                       .bucket = LAB_BUCKET_LATE, .warmup = 1};
        }
        const char *meta[] = {part ? "variant=b" : "variant=a", NULL};
        assert_int_equal(samples_file_write(part ? f->b : f->a, meta, rows, n, f->err,
                                            sizeof f->err), 0);
    }
}

static int setup(void **state)
{
    fixture_t *f = lrf_fixture_new(sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->a, sizeof f->a, "%s/a.samples.csv.gz", f->dir);
    snprintf(f->b, sizeof f->b, "%s/b.samples.csv.gz", f->dir);
    snprintf(f->bad, sizeof f->bad, "%s/bad.samples.csv.gz", f->dir);
    write_runs(f);
    *state = f;
    return 0;
}

static void test_percentile_rank(void **state)
{
    (void)state;
    int64_t v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = i + 1;
    assert_int_equal(lr_samples_percentile_ns(v, 1000, 999), 999); /* index ceil(999) - 1 */
    assert_int_equal(lr_samples_percentile_ns(v, 1000, 1000), 1000);
    assert_int_equal(lr_samples_percentile_ns(v, 1000, 500), 500);
    assert_int_equal(lr_samples_percentile_ns(v, 3, 500), 2);       /* ceil(1.5) = 2 */
    assert_int_equal(lr_samples_percentile_ns(v, 1, 0), 1);
}

static void test_merge_is_exact(void **state)
{
    fixture_t *f = *state;
    lr_samples_t s;
    lr_samples_init(&s);
    assert_int_equal(lr_samples_add(&s, f->a, f->err, sizeof f->err), 0);
    assert_int_equal(lr_samples_add(&s, f->b, f->err, sizeof f->err), 0);
    lr_samples_sort(&s);
    assert_int_equal(s.files, 2);
    assert_int_equal(s.rows, 103 + 101);
    assert_int_equal(s.warmup, 2);
    assert_int_equal(s.buckets[LAB_BUCKET_OK], 199);
    assert_int_equal(s.buckets[LAB_BUCKET_HTTP], 1);
    assert_int_equal(s.buckets[LAB_BUCKET_TIMEOUT], 1);
    assert_int_equal(s.buckets[LAB_BUCKET_LATE], 1);
    assert_int_equal(s.responses, 200);
    assert_int_equal(lr_samples_issued(&s), 201);
    assert_int_equal(lr_samples_planned(&s), 202);
    /* Of all 200: p50 is the 100th (100 ms), p99 the 198th; the average
     * of the two files' own p99 (99 and 199 ms) would say 149. */
    assert_int_equal(lr_samples_percentile_ns(s.corrected_ns, s.responses, 500), 100 * MS);
    assert_int_equal(lr_samples_percentile_ns(s.corrected_ns, s.responses, 990), 198 * MS);
    assert_int_equal(lr_samples_percentile_ns(s.corrected_ns, s.responses, 1000), 200 * MS);
    assert_int_equal(lr_samples_percentile_ns(s.uncorrected_ns, s.responses, 990),
                     197 * MS + MS / 2);
    lr_samples_free(&s);
}

static void test_json_has_the_report_keys(void **state)
{
    fixture_t *f = *state;
    lr_samples_t s;
    lr_samples_init(&s);
    assert_int_equal(lr_samples_add(&s, f->a, f->err, sizeof f->err), 0);
    assert_int_equal(lr_samples_add(&s, f->b, f->err, sizeof f->err), 0);
    lr_samples_sort(&s);
    json_t *j = lr_samples_json(&s);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "files")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "rows")), 204);
    json_t *summary = json_object_get(j, "summary");
    assert_int_equal(json_integer_value(json_object_get(summary, "planned")), 202);
    assert_int_equal(json_integer_value(json_object_get(summary, "issued")), 201);
    assert_int_equal(json_integer_value(json_object_get(summary, "late")), 1);
    assert_int_equal(json_integer_value(json_object_get(summary, "responses")), 200);
    assert_int_equal(json_integer_value(json_object_get(summary, "warmup_excluded")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "buckets"), "http")),
                     1);
    json_t *p = json_object_get(j, "percentiles_ms"), *u;
    u = json_object_get(j, "percentiles_uncorrected_ms");
    assert_int_equal(json_object_size(p), 9);
    assert_true(json_real_value(json_object_get(p, "99")) == 198.0);
    assert_true(json_real_value(json_object_get(p, "99.9")) == 200.0);
    assert_true(json_real_value(json_object_get(u, "50")) == 99.5);
    json_decref(j);
    lr_samples_free(&s);
}

static void test_text_output(void **state)
{
    fixture_t *f = *state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    const char *paths[] = {f->a, f->b};
    assert_int_equal(lr_samples(paths, 2, 0, out, f->err, sizeof f->err), LR_EXIT_OK);
    fclose(out);
    assert_non_null(strstr(text, "2 file(s), 204 rows, 2 of them in the warm-up"));
    assert_non_null(strstr(text, "planned 202 = issued 201 + late 1; responses 200"));
    assert_non_null(strstr(text, "\n99                198.000          197.500\n"));
    free(text);
}

static void test_no_responses(void **state)
{
    fixture_t *f = *state;
    lab_sample_t late = {.planned_ns = 0, .sent_ns = -1, .end_ns = -1, .bucket = LAB_BUCKET_LATE};
    assert_int_equal(samples_file_write(f->bad, NULL, &late, 1, f->err, sizeof f->err), 0);
    lr_samples_t s;
    lr_samples_init(&s);
    assert_int_equal(lr_samples_add(&s, f->bad, f->err, sizeof f->err), 0);
    lr_samples_sort(&s);
    json_t *j = lr_samples_json(&s);
    assert_true(json_is_null(json_object_get(j, "percentiles_ms")));
    assert_true(json_is_null(json_object_get(j, "percentiles_uncorrected_ms")));
    json_decref(j);
    lr_samples_free(&s);
}

static void test_bad_file_adds_nothing(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(lrf_write(f->dir, "bad.samples.csv.gz",
                               SAMPLES_FILE_MAGIC "\n" SAMPLES_FILE_COLUMNS "\n"
                               "0,1,2,ok,200,0\n0,1,2,okk,200,0\n"), 0);
    lr_samples_t s;
    lr_samples_init(&s);
    assert_int_equal(lr_samples_add(&s, f->a, f->err, sizeof f->err), 0);
    assert_int_equal(lr_samples_add(&s, f->bad, f->err, sizeof f->err), -EINVAL);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s:4: bucket \"okk\"", f->bad);
    assert_int_equal(strncmp(f->err, want, strlen(want)), 0);
    assert_int_equal(s.files, 1);
    assert_int_equal(s.rows, 103);
    assert_int_equal(s.responses, 100);
    assert_int_equal(s.buckets[LAB_BUCKET_OK], 100);
    const char *paths[] = {f->a, f->bad};
    FILE *out = fopen("/dev/null", "w");
    assert_int_equal(lr_samples(paths, 2, 1, out, f->err, sizeof f->err), LR_EXIT_FAIL);
    fclose(out);
    lr_samples_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile_rank),
        cmocka_unit_test_setup_teardown(test_merge_is_exact, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_json_has_the_report_keys, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_text_output, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_no_responses, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_bad_file_adds_nothing, setup, lrf_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
