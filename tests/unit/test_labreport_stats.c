/* labreport/stats.c: median, min and max over repeats (NaN skipped), and
 * their JSON form. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats.h"

static void test_median_odd(void **state)
{
    (void)state;
    const double v[] = {99.1, 99.8, 99.6};
    lr_stat_t s;
    assert_int_equal(lr_stat_of(v, 3, &s), 0);
    assert_int_equal(s.n, 3);
    assert_true(s.median == 99.6);
    assert_true(s.min == 99.1);
    assert_true(s.max == 99.8);
}

static void test_median_even_is_mean_of_middle(void **state)
{
    (void)state;
    const double v[] = {4, 1, 3, 2};
    lr_stat_t s;
    assert_int_equal(lr_stat_of(v, 4, &s), 0);
    assert_true(s.median == 2.5);
    assert_true(s.min == 1 && s.max == 4);
}

static void test_nan_skipped(void **state)
{
    (void)state;
    const double v[] = {NAN, 5, NAN, 7};
    lr_stat_t s;
    assert_int_equal(lr_stat_of(v, 4, &s), 0);
    assert_int_equal(s.n, 2);
    assert_true(s.median == 6 && s.min == 5 && s.max == 7);
}

static void test_nothing_is_nan(void **state)
{
    (void)state;
    const double v[] = {NAN, NAN};
    lr_stat_t s;
    assert_int_equal(lr_stat_of(v, 2, &s), 0);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.median) && isnan(s.min) && isnan(s.max));
    assert_int_equal(lr_stat_of(NULL, 0, &s), 0);
    assert_int_equal(s.n, 0);
}

static void test_single_value(void **state)
{
    (void)state;
    const double v[] = {42};
    lr_stat_t s;
    assert_int_equal(lr_stat_of(v, 1, &s), 0);
    assert_true(s.median == 42 && s.min == 42 && s.max == 42);
}

static void test_json_round_trip(void **state)
{
    (void)state;
    lr_stat_t s = {99.6004, 99.1, 99.8, 3};
    json_t *j = lr_stat_json(&s, 3);
    assert_non_null(j);
    assert_true(json_real_value(json_object_get(j, "median")) == 99.6);
    lr_stat_t back = lr_stat_from_json(j);
    assert_int_equal(back.n, 1); /* the repeats count is the row's */
    assert_true(back.median == 99.6 && back.min == 99.1 && back.max == 99.8);
    json_decref(j);

    lr_stat_t none = {NAN, NAN, NAN, 0};
    j = lr_stat_json(&none, 3);
    assert_true(json_is_null(j));
    back = lr_stat_from_json(j);
    assert_int_equal(back.n, 0);
    json_decref(j);
    back = lr_stat_from_json(NULL);
    assert_int_equal(back.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median_odd),
        cmocka_unit_test(test_median_even_is_mean_of_middle),
        cmocka_unit_test(test_nan_skipped),
        cmocka_unit_test(test_nothing_is_nan),
        cmocka_unit_test(test_single_value),
        cmocka_unit_test(test_json_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
