/* loadgen/phase.c: when a client may issue, and where the measured window
 * ends. A client that finds the load over must record the load's end as
 * its issuing end: that is the window's end, and a worker that stopped
 * issuing without it reported an empty window (rps 0, seen once in a
 * 10,000-connection run whose responses straddled the load's end). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "phase.h"

#define S 1000000000ULL

static lg_run_t timed_run(void)
{
    lg_run_t run = {.start_ns = 100 * S, .warmup_end_ns = 103 * S, .load_end_ns = 112 * S,
                    .drain_end_ns = 115 * S};
    run.drain_deadline_ns = UINT64_MAX;
    return run;
}

static void test_issuing_until_the_load_ends(void **state)
{
    (void)state;
    lg_run_t run = timed_run();
    lg_phase_t p = {.issuing = 1};
    assert_int_equal(lg_phase_may_issue(&p, &run, 111 * S), 1);
    assert_int_equal(p.issuing, 1);
    /* The first client to see the end: the window ends with the load. */
    assert_int_equal(lg_phase_may_issue(&p, &run, 112 * S + 5), 0);
    assert_int_equal(p.issuing, 0);
    assert_true(p.issuing_end_ns == run.load_end_ns);
    assert_true(p.drain_deadline_ns == run.drain_end_ns);
    assert_int_equal(lg_phase_may_issue(&p, &run, 113 * S), 0);
    assert_true(p.issuing_end_ns == run.load_end_ns);
}

static void test_a_stop_ends_issuing_then(void **state)
{
    (void)state;
    lg_run_t run = timed_run();
    lg_phase_t p = {.issuing = 1};
    run.stop_level = 1;
    run.drain_deadline_ns = 108 * S;
    assert_int_equal(lg_phase_may_issue(&p, &run, 107 * S), 0);
    assert_true(p.issuing_end_ns == 107 * S);
    assert_true(p.drain_deadline_ns == 108 * S);
}

static void test_count_mode_hands_out_requests(void **state)
{
    (void)state;
    lg_run_t run = {.load_end_ns = UINT64_MAX, .drain_end_ns = UINT64_MAX, .count_mode = 1};
    run.requests_left = 2;
    run.drain_deadline_ns = UINT64_MAX;
    lg_phase_t p = {.issuing = 1};
    assert_int_equal(lg_phase_may_issue(&p, &run, 1), 1);
    assert_int_equal(lg_phase_may_issue(&p, &run, 2), 1);
    assert_int_equal(lg_phase_may_issue(&p, &run, 3), 0);
    assert_int_equal(p.issuing, 0);
}

static void test_window_share(void **state)
{
    (void)state;
    lg_run_t run = timed_run();
    assert_true(lg_window_share(&run, 104 * S, 105 * S) == 1.0);
    assert_true(lg_window_share(&run, 102 * S, 104 * S) == 0.5);  /* across the warm-up's end */
    assert_true(lg_window_share(&run, 111 * S, 113 * S) == 0.5);  /* across the load's end */
    assert_true(lg_window_share(&run, 101 * S, 102 * S) == 0.0);  /* in the warm-up */
    assert_true(lg_window_share(&run, 112 * S, 113 * S) == 0.0);  /* after the load */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issuing_until_the_load_ends),
        cmocka_unit_test(test_a_stop_ends_issuing_then),
        cmocka_unit_test(test_count_mode_hands_out_requests),
        cmocka_unit_test(test_window_share),
    };
    return cmocka_run_group_tests_name("loadgen phase", tests, NULL, NULL);
}
