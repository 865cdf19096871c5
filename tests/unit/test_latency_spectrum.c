/* lib/latency_spectrum.c: wrk2's "Detailed Percentile spectrum" rows, exact.
 * n = 10 against a table worked by hand; n = 1 and n = 1000 (and a large
 * count) against the rules: ticks 5 per halving of the distance to 100%,
 * each row the sample at its nearest rank, rising, ending at {1.0, max, n}. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "latency_spectrum.h"

typedef struct {
    double percentile;
    uint64_t count; /* the value is 10 * count: sorted[i] = 10 * (i + 1) */
} spectrum_case_t;

/* ceil(p * 10) for wrk2's ticks 0, 0.1 ... 0.4, 0.5, 0.55 ... 0.7, 0.75,
 * 0.775 ... 0.85, 0.875, 0.8875, 0.9; the next tick, 0.9125, is rank 10:
 * the last row instead. */
static const spectrum_case_t ten[] = {
    {0.0, 1},   {0.1, 1},   {0.2, 2},   {0.3, 3},    {0.4, 4}, {0.5, 5},   {0.55, 6},
    {0.6, 6},   {0.65, 7},  {0.7, 7},   {0.75, 8},   {0.775, 8}, {0.8, 8}, {0.825, 9},
    {0.85, 9},  {0.875, 9}, {0.8875, 9}, {0.9, 9},   {1.0, 10},
};
#define TEN_ROWS (sizeof ten / sizeof ten[0])

static uint64_t *uniform(size_t n)
{
    uint64_t *v = malloc(n * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = 10 * (uint64_t)(i + 1);
    return v;
}

static void test_spectrum_ten(void **state)
{
    (void)state;
    uint64_t *v = uniform(10);
    latency_spectrum_row_t rows[LATENCY_SPECTRUM_ROWS_MAX];
    size_t n = latency_spectrum_rows(v, 10, rows, LATENCY_SPECTRUM_ROWS_MAX);
    assert_int_equal(n, TEN_ROWS);
    for (size_t i = 0; i < TEN_ROWS; i++) {
        if (rows[i].percentile != ten[i].percentile || rows[i].count != ten[i].count)
            print_message("row %zu: %.17g %llu, want %.17g %llu\n", i, rows[i].percentile,
                          (unsigned long long)rows[i].count, ten[i].percentile,
                          (unsigned long long)ten[i].count);
        /* Exactly the double of the decimal: integers divided once. */
        assert_true(rows[i].percentile == ten[i].percentile);
        assert_int_equal(rows[i].count, ten[i].count);
        assert_int_equal(rows[i].value, 10 * ten[i].count);
    }
    free(v);
}

/* One sample: the only row is the last one. */
static void test_spectrum_one(void **state)
{
    (void)state;
    uint64_t v = 1234567;
    latency_spectrum_row_t rows[2];
    assert_int_equal(latency_spectrum_rows(&v, 1, rows, 2), 1);
    assert_true(rows[0].percentile == 1.0);
    assert_int_equal(rows[0].value, 1234567);
    assert_int_equal(rows[0].count, 1);
    assert_int_equal(latency_spectrum_rows(&v, 0, rows, 2), 0);
}

/* The step after a tick p: 1 / (5 * 2^(floor(log2(1 / (1 - p))) + 1)). */
static double tick_step(double p)
{
    double level = floor(log2(1.0 / (1.0 - p)) + 1e-9);
    return 1.0 / (LATENCY_SPECTRUM_TICKS_PER_HALF * pow(2, level + 1));
}

/* Every rule on n uniform samples. */
static void check_rules(const uint64_t *v, size_t n, const latency_spectrum_row_t *rows,
                        size_t count)
{
    assert_true(count >= 1 && count <= LATENCY_SPECTRUM_ROWS_MAX);
    assert_true(rows[0].percentile == 0.0);
    assert_int_equal(rows[0].count, 1);
    for (size_t i = 0; i < count; i++) {
        const latency_spectrum_row_t *r = &rows[i];
        assert_true(r->count >= 1 && r->count <= n);
        assert_int_equal(r->value, v[r->count - 1]);
        if (i + 1 == count)
            break;
        /* The nearest rank, max(1, ceil(p * n)), below n. */
        double at = r->percentile * (double)n;
        assert_true(r->count < n);
        if (i > 0)
            assert_true((double)r->count >= at - 1e-6 && (double)r->count < at + 1 - 1e-6);
        /* Rising by the tick's step, never falling. */
        assert_true(fabs(rows[i + 1].percentile - r->percentile - tick_step(r->percentile)) <
                        1e-12 ||
                    i + 2 == count);
        assert_true(rows[i + 1].percentile > r->percentile);
        assert_true(rows[i + 1].count >= r->count && rows[i + 1].value >= r->value);
    }
    /* The last row: 100%, the maximum, all n; the tick after the one
     * before it reached rank n. */
    const latency_spectrum_row_t *last = &rows[count - 1];
    assert_true(last->percentile == 1.0);
    assert_int_equal(last->count, n);
    assert_int_equal(last->value, v[n - 1]);
    if (count >= 2) {
        double next = rows[count - 2].percentile + tick_step(rows[count - 2].percentile);
        assert_true(ceil(next * (double)n - 1e-6) >= (double)n);
    }
}

static void test_spectrum_thousand(void **state)
{
    (void)state;
    uint64_t *v = uniform(1000);
    latency_spectrum_row_t rows[LATENCY_SPECTRUM_ROWS_MAX];
    size_t count = latency_spectrum_rows(v, 1000, rows, LATENCY_SPECTRUM_ROWS_MAX);
    check_rules(v, 1000, rows, count);
    /* 50% is rank 500. The ticks of level 9 (1 - 10/5120 ... 1 - 6/5120)
     * are rank 999, level 10's first (0.9990234375) is rank 1000: the row
     * before the last is 0.998828125. */
    assert_true(rows[5].percentile == 0.5 && rows[5].count == 500);
    assert_true(rows[count - 2].percentile == 0.998828125);
    assert_int_equal(rows[count - 2].count, 999);
    /* Counting alone gives the same number, and a short array the first
     * rows. */
    assert_int_equal(latency_spectrum_rows(NULL, 1000, NULL, 0), count);
    latency_spectrum_row_t few[3];
    assert_int_equal(latency_spectrum_rows(v, 1000, few, 3), count);
    assert_true(few[2].percentile == rows[2].percentile && few[2].count == rows[2].count);
    free(v);
}

/* Equal values: the ranks still rise, the values stay. */
static void test_spectrum_ties(void **state)
{
    (void)state;
    uint64_t v[100];
    for (size_t i = 0; i < 100; i++)
        v[i] = i < 90 ? 5 : 7;
    latency_spectrum_row_t rows[LATENCY_SPECTRUM_ROWS_MAX];
    size_t count = latency_spectrum_rows(v, 100, rows, LATENCY_SPECTRUM_ROWS_MAX);
    check_rules(v, 100, rows, count);
    assert_true(rows[9].percentile == 0.7 && rows[9].value == 5 && rows[9].count == 70);
}

/* A count far beyond memory: the rows stay within the bound (5 per
 * halving, 64 halvings at most). */
static void test_spectrum_bound(void **state)
{
    (void)state;
    size_t big = SIZE_MAX / 8 - 1;
    size_t count = latency_spectrum_rows(NULL, big, NULL, 0);
    assert_true(count > 5 * 55 && count <= LATENCY_SPECTRUM_ROWS_MAX);
    uint64_t *v = uniform(1 << 20);
    latency_spectrum_row_t rows[LATENCY_SPECTRUM_ROWS_MAX];
    count = latency_spectrum_rows(v, 1 << 20, rows, LATENCY_SPECTRUM_ROWS_MAX);
    check_rules(v, 1 << 20, rows, count);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spectrum_ten),     cmocka_unit_test(test_spectrum_one),
        cmocka_unit_test(test_spectrum_thousand), cmocka_unit_test(test_spectrum_ties),
        cmocka_unit_test(test_spectrum_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
