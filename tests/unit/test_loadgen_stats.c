/* loadgen/stats.c: nearest-rank percentiles, the merge of per-thread
 * statistics, the bucket invariants (closed and open loop) and the
 * corrected and uncorrected latencies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats.h"

static unsigned per_mille_of(const char *label)
{
    for (int i = 0; i < LG_PERCENTILE_COUNT; i++) {
        if (strcmp(lg_percentiles[i].label, label) == 0)
            return lg_percentiles[i].per_mille;
    }
    fail_msg("no percentile %s", label);
    return 0;
}

/* A closed-loop request: planned and sent at 0, ended after latency_ns. */
static void end_after(lg_stats_t *s, int in_warmup, enum lg_outcome outcome, int status,
                      uint64_t latency_ns)
{
    lg_req_t r = {.planned_ns = 0, .sent_ns = 0, .in_warmup = in_warmup};
    lg_stats_end(s, &r, outcome, status, latency_ns);
}

static void add_responses(lg_stats_t *s, const uint64_t *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lg_stats_issue(s, 0);
        end_after(s, 0, LG_OUTCOME_RESPONSE, 200, values[i]);
    }
}

static void test_percentiles_one_to_ten(void **state)
{
    (void)state;
    lg_stats_t s;
    assert_int_equal(lg_stats_init(&s, 4), 0);
    /* Shuffled 1..10: the sort is part of the contract. */
    const uint64_t v[] = {7, 3, 10, 1, 9, 2, 8, 5, 4, 6};
    add_responses(&s, v, 10);
    assert_int_equal(lg_stats_finish(&s, 0), 0);
    /* index = ceil(p/100 * n) - 1 */
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("50")), 5);
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("60")), 6);
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("70")), 7);
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("80")), 8);
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("90")), 9);
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("95")), 10); /* ceil(9.5) = 10 */
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("99")), 10);
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("99.9")), 10);
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("100")), 10);
    assert_int_equal(lg_stats_percentile_ns(&s, 0), 1); /* p0: the minimum */
    assert_int_equal(s.min_ns, 1);
    assert_int_equal(s.max_ns, 10);
    assert_int_equal(s.sum_ns, 55);
    lg_stats_free(&s);
}

static void test_percentiles_thousand(void **state)
{
    (void)state;
    lg_stats_t s;
    assert_int_equal(lg_stats_init(&s, 0), 0);
    /* Descending 1000..1, grown from no reservation. */
    for (uint64_t i = 1000; i >= 1; i--) {
        lg_stats_issue(&s, 0);
        end_after(&s, 0, LG_OUTCOME_RESPONSE, 200, i);
    }
    assert_int_equal(lg_stats_finish(&s, 0), 0);
    assert_int_equal(s.count, 1000);
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("50")), 500);
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("99")), 990);
    /* 99.9% of 1000 is exactly 999: no floating-point rounding up. */
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("99.9")), 999);
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("100")), 1000);
    lg_stats_free(&s);

    /* n = 1001: 99.9% -> ceil(999.999) = 1000th value. */
    assert_int_equal(lg_stats_init(&s, 0), 0);
    for (uint64_t i = 1; i <= 1001; i++) {
        lg_stats_issue(&s, 0);
        end_after(&s, 0, LG_OUTCOME_RESPONSE, 200, i * 10);
    }
    assert_int_equal(lg_stats_finish(&s, 0), 0);
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("99.9")), 10000);
    assert_int_equal(lg_stats_percentile_ns(&s, per_mille_of("100")), 10010);
    lg_stats_free(&s);
}

static void test_percentile_single_sample(void **state)
{
    (void)state;
    lg_stats_t s;
    assert_int_equal(lg_stats_init(&s, 1), 0);
    const uint64_t v[] = {1234567};
    add_responses(&s, v, 1);
    assert_int_equal(lg_stats_finish(&s, 0), 0);
    for (int i = 0; i < LG_PERCENTILE_COUNT; i++)
        assert_int_equal(lg_stats_percentile_ns(&s, lg_percentiles[i].per_mille), 1234567);
    lg_stats_free(&s);
}

static void test_empty(void **state)
{
    (void)state;
    lg_stats_t s;
    assert_int_equal(lg_stats_init(&s, 0), 0);
    assert_int_equal(lg_stats_finish(&s, 0), 0);
    assert_int_equal(s.count, 0);
    assert_true(lg_buckets_balanced(&s.buckets, 0));
    assert_int_equal(lg_buckets_ended(&s.buckets), 0);
    lg_stats_free(&s);
}

/* Every outcome, warm-up requests and unfinished ones: issued equals the
 * sum of the buckets for the counted set; the warm-up is counted apart. */
static void test_bucket_invariant_every_outcome(void **state)
{
    (void)state;
    lg_stats_t s;
    assert_int_equal(lg_stats_init(&s, 2), 0);
    struct {
        enum lg_outcome outcome;
        int status;
    } ends[] = {
        {LG_OUTCOME_RESPONSE, 200},  {LG_OUTCOME_RESPONSE, 204},    {LG_OUTCOME_RESPONSE, 502},
        {LG_OUTCOME_RESPONSE, 502},  {LG_OUTCOME_RESPONSE, 404},    {LG_OUTCOME_RESPONSE, 301},
        {LG_OUTCOME_TIMEOUT, 0},     {LG_OUTCOME_ERR_CONNECT, 0},   {LG_OUTCOME_ERR_READ, 0},
        {LG_OUTCOME_ERR_WRITE, 0},   {LG_OUTCOME_ERR_PARSE, 0},     {LG_OUTCOME_ERR_CONNECT, 0},
        {LG_OUTCOME_UNFINISHED, 0},  {LG_OUTCOME_UNFINISHED, 0},    {LG_OUTCOME_RESPONSE, 1200},
    };
    size_t n = sizeof ends / sizeof ends[0];
    /* Warm-up requests end in every way too, and leave no trace but the
     * count of their responses (for --upstream's answered). */
    for (size_t i = 0; i < n; i++) {
        lg_stats_issue(&s, 1);
        end_after(&s, 1, ends[i].outcome, ends[i].status, 999999);
    }
    for (size_t i = 0; i < n; i++) {
        lg_stats_issue(&s, 0);
        assert_false(lg_buckets_balanced(&s.buckets, 0)); /* one in flight */
        end_after(&s, 0, ends[i].outcome, ends[i].status, 1000 + i);
        assert_true(lg_buckets_balanced(&s.buckets, 0));
    }
    const lg_buckets_t *b = &s.buckets;
    assert_int_equal(b->issued, n);
    assert_int_equal(b->warmup_excluded, n);
    assert_int_equal(b->warmup_responses, 7); /* the 7 responses of ends[] */
    assert_int_equal(lg_stats_answered(&s), 7 + 7);
    assert_int_equal(b->ok, 2);
    assert_int_equal(b->http_status[502], 2);
    assert_int_equal(b->http_status[404], 1);
    assert_int_equal(b->http_status[301], 1);
    assert_int_equal(b->http_status[0], 1); /* out of range: bucket 0 */
    assert_int_equal(lg_buckets_http_errors(b), 5);
    assert_int_equal(b->timeouts, 1);
    assert_int_equal(b->errors[LG_ERR_INDEX(LG_OUTCOME_ERR_CONNECT)], 2);
    assert_int_equal(b->errors[LG_ERR_INDEX(LG_OUTCOME_ERR_READ)], 1);
    assert_int_equal(b->errors[LG_ERR_INDEX(LG_OUTCOME_ERR_WRITE)], 1);
    assert_int_equal(b->errors[LG_ERR_INDEX(LG_OUTCOME_ERR_PARSE)], 1);
    assert_int_equal(lg_buckets_conn_errors(b), 5);
    assert_int_equal(b->unfinished, 2);
    assert_int_equal(lg_buckets_failures(b), 5 + 1 + 5);
    assert_int_equal(lg_buckets_ended(b), n);
    /* Samples: the counted responses only (ok and http errors). */
    assert_int_equal(s.count, 7);
    assert_int_equal(s.max_ns, 1000 + 14);
    assert_int_equal(s.min_ns, 1000);
    lg_stats_free(&s);
}

static void test_merge(void **state)
{
    (void)state;
    lg_stats_t a, b, total;
    assert_int_equal(lg_stats_init(&a, 0), 0);
    assert_int_equal(lg_stats_init(&b, 3), 0);
    assert_int_equal(lg_stats_init(&total, 0), 0);
    const uint64_t va[] = {30, 10, 50, 70, 90};
    const uint64_t vb[] = {100, 20, 40, 60, 80};
    add_responses(&a, va, 5);
    add_responses(&b, vb, 5);
    lg_stats_issue(&a, 0);
    end_after(&a, 0, LG_OUTCOME_TIMEOUT, 0, 0);
    lg_stats_issue(&b, 0);
    end_after(&b, 0, LG_OUTCOME_RESPONSE, 503, 5);
    lg_stats_issue(&b, 1);
    end_after(&b, 1, LG_OUTCOME_RESPONSE, 200, 7);
    lg_stats_issue(&b, 0);
    end_after(&b, 0, LG_OUTCOME_UNFINISHED, 0, 0);
    a.ok_in_window = 1.5;
    b.ok_in_window = 2.25;
    a.served_in_window = 1.25;
    b.served_in_window = 2.0;
    a.edge_error = 0.5;
    b.edge_error = 0.25;

    assert_int_equal(lg_stats_merge(&total, &a), 0);
    assert_int_equal(lg_stats_merge(&total, &b), 0);
    assert_int_equal(lg_stats_finish(&total, 0), 0);
    assert_int_equal(total.count, 11);
    assert_int_equal(total.min_ns, 5);
    assert_int_equal(total.max_ns, 100);
    assert_int_equal(total.sum_ns, 555);
    assert_int_equal(total.buckets.issued, 13);
    assert_int_equal(total.buckets.ok, 10);
    assert_int_equal(total.buckets.http_status[503], 1);
    assert_int_equal(total.buckets.timeouts, 1);
    assert_int_equal(total.buckets.unfinished, 1);
    assert_int_equal(total.buckets.warmup_excluded, 1);
    assert_int_equal(total.buckets.warmup_responses, 1);
    assert_true(total.ok_in_window == 3.75);
    assert_true(total.served_in_window == 3.25);
    assert_true(total.edge_error == 0.75);
    assert_true(lg_buckets_balanced(&total.buckets, 0));
    /* Sorted merged samples: 5 10 20 ... 100; p50 = 6th of 11 = 50. */
    assert_int_equal(lg_stats_percentile_ns(&total, 500), 50);
    assert_int_equal(lg_stats_percentile_ns(&total, 1000), 100);
    assert_int_equal(total.latency_ns[0], 5);
    /* Merging an empty thread changes nothing. */
    lg_stats_t empty;
    assert_int_equal(lg_stats_init(&empty, 0), 0);
    assert_int_equal(lg_stats_merge(&total, &empty), 0);
    assert_int_equal(total.count, 11);
    assert_int_equal(total.min_ns, 5);
    lg_stats_free(&empty);
    lg_stats_free(&a);
    lg_stats_free(&b);
    lg_stats_free(&total);
}

/* The open loop: a request that waited before its send has a corrected
 * latency (from the plan) longer than its uncorrected one (from the
 * send); a late one is counted apart, and issued + late = planned is the
 * second invariant. Times become relative to the start. */
static void test_open_loop_corrected_and_late(void **state)
{
    (void)state;
    lg_stats_t s;
    const uint64_t start = 1000000;
    assert_int_equal(lg_stats_init(&s, 0), 0);
    lg_req_t waited = {.planned_ns = start + 10, .sent_ns = start + 510, .in_warmup = 0};
    lg_req_t on_time = {.planned_ns = start + 20, .sent_ns = start + 20, .in_warmup = 0};
    lg_stats_issue(&s, 0);
    lg_stats_end(&s, &waited, LG_OUTCOME_RESPONSE, 200, start + 1010);
    lg_stats_issue(&s, 0);
    lg_stats_end(&s, &on_time, LG_OUTCOME_RESPONSE, 500, start + 120);
    lg_stats_late(&s, start + 30, 0);
    lg_stats_late(&s, start + 5, 1); /* planned in the warm-up: excluded */
    s.buckets.planned = 3;
    assert_true(lg_buckets_balanced(&s.buckets, 1));
    s.buckets.planned = 4;
    assert_false(lg_buckets_balanced(&s.buckets, 1));
    assert_true(lg_buckets_balanced(&s.buckets, 0));
    assert_int_equal(s.buckets.late, 1);
    assert_int_equal(s.buckets.warmup_excluded, 1);
    assert_int_equal(lg_stats_finish(&s, start), 0);
    /* Corrected: 1000 and 100; uncorrected: 500 and 100. */
    assert_int_equal(lg_stats_percentile_ns(&s, 1000), 1000);
    assert_int_equal(lg_stats_percentile_uncorrected_ns(&s, 1000), 500);
    assert_int_equal(lg_stats_percentile_ns(&s, 500), 100);
    assert_int_equal(s.sum_ns, 1100);
    assert_int_equal(s.sum_uncorrected_ns, 600);
    /* Every request left a sample, relative to the start. */
    assert_int_equal(s.sample_count, 4);
    assert_int_equal(s.samples[0].planned_ns, 10);
    assert_int_equal(s.samples[0].sent_ns, 510);
    assert_int_equal(s.samples[0].end_ns, 1010);
    assert_int_equal(s.samples[1].bucket, LAB_BUCKET_HTTP);
    assert_int_equal(s.samples[1].status, 500);
    assert_int_equal(s.samples[2].bucket, LAB_BUCKET_LATE);
    assert_int_equal(s.samples[2].sent_ns, -1);
    assert_int_equal(s.samples[2].planned_ns, 30);
    assert_int_equal(s.samples[3].warmup, 1);
    lg_stats_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_one_to_ten),
        cmocka_unit_test(test_percentiles_thousand),
        cmocka_unit_test(test_percentile_single_sample),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_bucket_invariant_every_outcome),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_open_loop_corrected_and_late),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
