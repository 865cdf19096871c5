/* lib/parse.c: strict numbers for flags, environment and query strings. A
 * table per function: the text, the range, and the expected result. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parse.h"

typedef struct {
    const char *text;
    long min, max;
    int rc;
    long value; /* when rc == 0 */
} long_case_t;

static const long_case_t long_cases[] = {
    {"0", 0, 65535, 0, 0},
    {"42", 0, 65535, 0, 42},
    {"65535", 0, 65535, 0, 65535},
    {"-1", -1, 10, 0, -1},
    {"+7", 0, 10, 0, 7}, /* strtol's sign is allowed */
    {"007", 0, 10, 0, 7},
    {"65536", 0, 65535, -ERANGE, 0},
    {"-1", 0, 65535, -ERANGE, 0},
    {"99999999999999999999999", LONG_MIN, LONG_MAX, -ERANGE, 0},
    {"", 0, 10, -EINVAL, 0},
    {" 1", 0, 10, -EINVAL, 0},
    {"\t1", 0, 10, -EINVAL, 0},
    {"1 ", 0, 10, -EINVAL, 0},
    {"1x", 0, 10, -EINVAL, 0},
    {"1.0", 0, 10, -EINVAL, 0},
    {"0x10", 0, 100, -EINVAL, 0}, /* base 10 only */
    {"1e3", 0, 10000, -EINVAL, 0},
    {"-", 0, 10, -EINVAL, 0},
    {"abc", 0, 10, -EINVAL, 0},
};

static void test_parse_long_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof long_cases / sizeof long_cases[0]; i++) {
        const long_case_t *c = &long_cases[i];
        long out = 12345;
        int rc = parse_long(c->text, c->min, c->max, &out);
        if (rc != c->rc)
            print_message("parse_long(\"%s\", %ld, %ld) = %d\n", c->text, c->min, c->max, rc);
        assert_int_equal(rc, c->rc);
        /* On failure the output is left alone: callers keep their default. */
        assert_int_equal(out, c->rc == 0 ? c->value : 12345);
    }
}

static void test_parse_long_null(void **state)
{
    (void)state;
    long out = 1;
    assert_int_equal(parse_long(NULL, 0, 10, &out), -EINVAL);
    assert_int_equal(out, 1);
}

typedef struct {
    const char *text;
    double min, max;
    int rc;
    double value; /* when rc == 0 */
} double_case_t;

static const double_case_t double_cases[] = {
    {"1", 0, 60, 0, 1.0},
    {"0", 0, 60, 0, 0.0},
    {"-0", 0, 60, 0, 0.0},
    {"0.5", 0, 60, 0, 0.5},
    {".5", 0, 60, 0, 0.5},
    {"5.", 0, 60, 0, 5.0},
    {"60", 0, 60, 0, 60.0},
    {"1e1", 0, 60, 0, 10.0},
    {"1e-400", 0, 60, 0, 0.0}, /* underflow: a usable zero, not out of range */
    {"60.0001", 0, 60, -ERANGE, 0},
    {"-1", 0, 60, -ERANGE, 0},
    {"-0.001", 0, 60, -ERANGE, 0},
    {"61", 0, 60, -ERANGE, 0},
    {"1e309", 0, 60, -ERANGE, 0},
    {"1e309", -INFINITY, INFINITY, -ERANGE, 0}, /* overflow even with no bounds */
    {"inf", 0, 60, -ERANGE, 0},
    {"-inf", 0, 60, -ERANGE, 0},
    {"infinity", 0, 60, -ERANGE, 0},
    {"nan", 0, 60, -EINVAL, 0},
    {"NaN", -INFINITY, INFINITY, -EINVAL, 0},
    {"-nan", 0, 60, -EINVAL, 0},
    {"nan(1)", 0, 60, -EINVAL, 0},
    {"", 0, 60, -EINVAL, 0},
    {" 1", 0, 60, -EINVAL, 0},
    {"\n1", 0, 60, -EINVAL, 0},
    {"1 ", 0, 60, -EINVAL, 0},
    {"1s", 0, 60, -EINVAL, 0},
    {"1.5.2", 0, 60, -EINVAL, 0},
    {"1e", 0, 60, -EINVAL, 0},
    {"abc", 0, 60, -EINVAL, 0},
    {".", 0, 60, -EINVAL, 0},
    {"-", 0, 60, -EINVAL, 0},
};

static void test_parse_double_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof double_cases / sizeof double_cases[0]; i++) {
        const double_case_t *c = &double_cases[i];
        double out = 12345.0;
        int rc = parse_double(c->text, c->min, c->max, &out);
        if (rc != c->rc)
            print_message("parse_double(\"%s\", %g, %g) = %d\n", c->text, c->min, c->max, rc);
        assert_int_equal(rc, c->rc);
        if (c->rc == 0)
            assert_true(out == c->value);
        else
            assert_true(out == 12345.0);
    }
}

static void test_parse_double_null(void **state)
{
    (void)state;
    double out = 1.0;
    assert_int_equal(parse_double(NULL, 0, 60, &out), -EINVAL);
    assert_true(out == 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_long_table),
        cmocka_unit_test(test_parse_long_null),
        cmocka_unit_test(test_parse_double_table),
        cmocka_unit_test(test_parse_double_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
