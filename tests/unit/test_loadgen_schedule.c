/* loadgen/schedule.c: the open loop's plan. Constant, ramp and steps give
 * the k-th request's time as the rate's integral says; counting agrees
 * with planning to the nanosecond; the threads' shares add up; bad --rate
 * text is refused with a message. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "schedule.h"

static lg_schedule_t parse_ok(const char *text, double step_s, double duration_s)
{
    lg_schedule_t s;
    char err[256];
    if (lg_schedule_parse(text, step_s, duration_s, &s, err, sizeof err) != 0)
        fail_msg("--rate %s: %s", text, err);
    return s;
}

static void test_constant(void **state)
{
    (void)state;
    lg_schedule_t s = parse_ok("50", 0, 2);
    assert_string_equal(lg_schedule_kind_name(&s), "constant");
    assert_int_equal(lg_schedule_offset_ns(&s, 0), 0);
    assert_int_equal(lg_schedule_offset_ns(&s, 1), 20000000);
    assert_int_equal(lg_schedule_offset_ns(&s, 99), 1980000000);
    assert_int_equal(lg_schedule_offset_ns(&s, 100), UINT64_MAX); /* at the end: not planned */
    assert_int_equal(lg_schedule_count(&s, 2000000000), 100);
    assert_int_equal(lg_schedule_count(&s, 20000000), 1);  /* k = 1 is due at, not before */
    assert_int_equal(lg_schedule_count(&s, 20000001), 2);
    assert_true(fabs(lg_schedule_mean_rate(&s) - 50) < 1e-9);
}

/* 0 to 100 req/s over 10 s, then 100 for 10 s: 500 + 1000 requests; the
 * k-th is due when the integral reaches k. */
static void test_ramp(void **state)
{
    (void)state;
    lg_schedule_t s = parse_ok("0:100:10s", 0, 20);
    assert_string_equal(lg_schedule_kind_name(&s), "ramp");
    assert_int_equal(lg_schedule_count(&s, 10 * 1000000000ULL), 500);
    assert_int_equal(lg_schedule_count(&s, 20 * 1000000000ULL), 1500);
    /* N(t) = 5 t^2 on the ramp: k = 125 at t = 5. */
    assert_true(llabs((long long)lg_schedule_offset_ns(&s, 125) - 5000000000LL) <= 1);
    /* After it, 100 req/s: k = 600 at 11 s. */
    assert_true(llabs((long long)lg_schedule_offset_ns(&s, 600) - 11000000000LL) <= 1);
    /* Monotonic throughout, and a ramp down works too. */
    for (uint64_t k = 1; k < 1500; k++)
        assert_true(lg_schedule_offset_ns(&s, k) > lg_schedule_offset_ns(&s, k - 1));
    lg_schedule_t down = parse_ok("400:50:10s", 0, 10);
    assert_int_equal(lg_schedule_count(&down, 10 * 1000000000ULL), 2250);
    for (uint64_t k = 1; k < 2250; k++)
        assert_true(lg_schedule_offset_ns(&down, k) > lg_schedule_offset_ns(&down, k - 1));
    assert_true(fabs(lg_schedule_mean_rate(&down) - 225) < 1e-9);
}

static void test_steps(void **state)
{
    (void)state;
    lg_schedule_t s = parse_ok("50,100,200", 2, -1);
    assert_string_equal(lg_schedule_kind_name(&s), "steps");
    assert_true(s.duration_s == 6);
    assert_int_equal(lg_schedule_count(&s, 2000000000), 100);
    assert_int_equal(lg_schedule_count(&s, 4000000000), 300);
    assert_int_equal(lg_schedule_count(&s, 6000000000), 700);
    assert_int_equal(lg_schedule_offset_ns(&s, 100), 2000000000);
    assert_int_equal(lg_schedule_offset_ns(&s, 110), 2100000000);
    assert_int_equal(lg_schedule_step_of(&s, 1999999999), 0);
    assert_int_equal(lg_schedule_step_of(&s, 2000000000), 1);
    assert_int_equal(lg_schedule_step_of(&s, 5999999999), 2);
}

/* Worker t of T takes k = t mod T: the shares add up to the whole, over
 * any span, and counting agrees with walking the plan. */
static void test_thread_shares(void **state)
{
    (void)state;
    lg_schedule_t s = parse_ok("10:333:3s", 0, 5);
    const uint64_t from = 250000000, to = 4321000000;
    uint64_t total = lg_schedule_count(&s, to) - lg_schedule_count(&s, from), sum = 0;
    for (long t = 0; t < 3; t++) {
        uint64_t walked = 0;
        for (uint64_t k = (uint64_t)t; lg_schedule_offset_ns(&s, k) < to; k += 3)
            walked += lg_schedule_offset_ns(&s, k) >= from;
        assert_int_equal(lg_schedule_count_for(&s, from, to, t, 3), walked);
        sum += walked;
    }
    assert_int_equal(sum, total);
}

static void test_bad_text(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double step_s;
        const char *says;
    } cases[] = {
        {"0", 0, "above 0"},          {"-5", 0, "above 0"},       {"abc", 0, "requests per second"},
        {"1e9", 0, "1e6"},            {"50,100", 0, "--step"},    {"50", 10, "--step"},
        {"50,,100", 5, "empty step"}, {"50,0", 5, "above 0"},     {"50:100", 0, "FROM:TO:SECONDS"},
        {"50:100:0s", 0, "seconds"},  {"0:0:5s", 0, "not both 0"}, {"50:100:60s", 0, "longer than -d"},
        {"10:0:5s", 0, "end above 0"}, {"50:100:5s:1", 0, "FROM:TO:SECONDS"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lg_schedule_t s;
        char err[256] = "";
        assert_int_equal(lg_schedule_parse(cases[i].text, cases[i].step_s, 30, &s, err, sizeof err),
                         -EINVAL);
        if (strstr(err, cases[i].says) == NULL)
            fail_msg("--rate %s: message \"%s\" does not say \"%s\"", cases[i].text, err,
                     cases[i].says);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant),     cmocka_unit_test(test_ramp),
        cmocka_unit_test(test_steps),        cmocka_unit_test(test_thread_shares),
        cmocka_unit_test(test_bad_text),
    };
    return cmocka_run_group_tests_name("loadgen schedule", tests, NULL, NULL);
}
