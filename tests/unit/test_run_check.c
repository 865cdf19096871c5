/* lib/run_check.c: --check's expressions. Every malformed text is refused
 * with a message that names it and says what was expected (a mistyped
 * check must never pass silently); the checks are evaluated on a small
 * report: units (1.1s is 1100ms), %, the tolerance of "=", and the
 * figures a report leaves null (a failure, never a skip; late: 0). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "run_check.h"

typedef struct {
    const char *text;
    size_t count;
    const char *metric; /* of the first check */
    run_check_op_t op;
    double threshold;
    const char *unit; /* NULL: none */
    const char *expr;
} ok_case_t;

static const ok_case_t ok_cases[] = {
    {"p99<1100ms", 1, "p99", RUN_CHECK_LT, 1100, "ms", "p99<1100ms"},
    {"  p99 < 1100 ms  ", 1, "p99", RUN_CHECK_LT, 1100, "ms", "p99 < 1100 ms"},
    {"p99<1100", 1, "p99", RUN_CHECK_LT, 1100, "ms", "p99<1100"}, /* ms by default */
    {"p99.9<=2s", 1, "p99.9", RUN_CHECK_LE, 2, "s", "p99.9<=2s"},
    {"p50_uncorrected>=500us", 1, "p50_uncorrected", RUN_CHECK_GE, 500, "us", NULL},
    {"p100>.5", 1, "p100", RUN_CHECK_GT, 0.5, "ms", NULL},
    {"mean<1e3", 1, "mean", RUN_CHECK_LT, 1000, "ms", NULL},
    {"min>-1", 1, "min", RUN_CHECK_GT, -1, "ms", NULL},
    {"max<5.", 1, "max", RUN_CHECK_LT, 5, "ms", NULL},
    {"failures=0", 1, "failures", RUN_CHECK_EQ, 0, NULL, NULL},
    {"failures==0", 1, "failures", RUN_CHECK_EQ, 0, NULL, NULL},
    {"late!=3", 1, "late", RUN_CHECK_NE, 3, NULL, NULL},
    {"rps>95", 1, "rps", RUN_CHECK_GT, 95, NULL, NULL},
    {"error_rate<1%", 1, "error_rate", RUN_CHECK_LT, 1, "%", NULL},
    {"error_rate < 0.01", 1, "error_rate", RUN_CHECK_LT, 0.01, NULL, NULL},
    {"of_ceiling>=95 %", 1, "of_ceiling", RUN_CHECK_GE, 95, "%", NULL},
    {"http_errors=0,errors=0", 2, "http_errors", RUN_CHECK_EQ, 0, NULL, NULL},
    {"p99<1100ms,rps>95,failures=0", 3, "p99", RUN_CHECK_LT, 1100, "ms", NULL},
    {" p99<1100ms , rps>95 ", 2, "p99", RUN_CHECK_LT, 1100, "ms", "p99<1100ms"},
};

static void test_parse_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
        const ok_case_t *c = &ok_cases[i];
        run_check_list_t list;
        char err[512] = "";
        int rc = run_check_parse(c->text, &list, err, sizeof err);
        if (rc != 0)
            fail_msg("\"%s\": %d, %s", c->text, rc, err);
        assert_int_equal(list.count, c->count);
        const run_check_t *k = &list.items[0];
        assert_string_equal(k->metric, c->metric);
        assert_int_equal(k->op, c->op);
        assert_true(k->threshold == c->threshold);
        if (c->unit == NULL)
            assert_null(k->unit);
        else
            assert_string_equal(k->unit, c->unit);
        if (c->expr != NULL)
            assert_string_equal(k->expr, c->expr);
    }
}

typedef struct {
    const char *text;
    const char *message; /* a part of err */
} bad_case_t;

static const bad_case_t bad_cases[] = {
    {"", "no check given: expected METRIC OP NUMBER[UNIT]"},
    {"  ", "no check given"},
    {"p99<1,,rps>1", "bad checks \"p99<1,,rps>1\": check 2 is empty"},
    {"p99<1,", "check 2 is empty"},
    {",p99<1", "check 1 is empty"},
    {"p99<1, ,rps>1", "check 2 is empty"},
    {"<1100ms", "bad check \"<1100ms\": expected a metric name first"},
    {"p99", "bad check \"p99\": expected an operator (<, <=, >, >=, =, ==, !=) after \"p99\", "
            "found nothing"},
    {"p99 1100ms", "expected an operator (<, <=, >, >=, =, ==, !=) after \"p99\", found \"1100ms\""},
    {"p99~1", "after \"p99\", found \"~1\""},
    {"p99<", "bad check \"p99<\": expected a number after \"<\", found nothing"},
    {"p99<ms", "expected a number after \"<\", found \"ms\""},
    {"p99<<1", "expected a number after \"<\", found \"<1\""},
    {"p99=>1", "expected a number after \"=\", found \">1\""},
    {"p99<.", "expected a number after \"<\", found \".\""},
    {"p99<1100ms x", "bad check \"p99<1100ms x\": unexpected \"x\" after the threshold"},
    {"p99<1 2", "unexpected \"2\" after the threshold"},
    {"p99<1.5.2", "unexpected \".2\" after the threshold"},
    {"p99<1100m", "bad check \"p99<1100m\": unknown unit \"m\" for p99: expected ms (the "
                  "default), us or s"},
    {"p99<1100msx", "unknown unit \"msx\" for p99"},
    {"p99<1%", "unknown unit \"%\" for p99"},
    {"p99<0x10", "unknown unit \"x\" for p99"},
    {"failures=0ms", "bad check \"failures=0ms\": failures takes no unit, found \"ms\""},
    {"rps>95%", "rps takes no unit, found \"%\""},
    {"error_rate<1ms", "unknown unit \"ms\" for error_rate: expected none (a fraction) or %"},
    {"p99<nan", "bad check \"p99<nan\": the threshold must be a finite number, found \"nan\""},
    {"p99<NaN", "must be a finite number"},
    {"p99<inf", "must be a finite number, found \"inf\""},
    {"p99<-Infinity", "must be a finite number"},
    {"p99<1e999", "must be a finite number, found \"1e999\""},
    {"p99<1100ms,rps>95,failurez=0", "bad check \"failurez=0\": unknown metric \"failurez\""},
};

static void test_parse_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case_t *c = &bad_cases[i];
        run_check_list_t list;
        char err[512] = "";
        int rc = run_check_parse(c->text, &list, err, sizeof err);
        if (rc != -EINVAL || strstr(err, c->message) == NULL)
            fail_msg("\"%s\": %d, \"%s\"; expected -EINVAL and \"%s\"", c->text, rc, err,
                     c->message);
    }
}

/* The message lists the known metrics, from the table. */
static void test_parse_unknown_metric(void **state)
{
    (void)state;
    run_check_list_t list;
    char err[1024];
    assert_int_equal(run_check_parse("p98<1100ms", &list, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "bad check \"p98<1100ms\": unknown metric \"p98\"; known: "
                                "p50 p60 p70 p80 p90 p95 p99 p99.9 p100 max min mean failures ok "
                                "issued timeouts unfinished late errors http_errors rps "
                                "error_rate of_ceiling; and p<N>_uncorrected for each p<N>"));
    assert_int_equal(run_check_parse("P99<1", &list, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "unknown metric \"P99\""));
    assert_int_equal(run_check_parse("p99_corrected<1", &list, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "unknown metric \"p99_corrected\""));
    /* A short buffer is cut, never overrun. */
    char small[16];
    assert_int_equal(run_check_parse("p98<1", &list, small, sizeof small), -EINVAL);
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_parse_limits(void **state)
{
    (void)state;
    char text[RUN_CHECK_MAX * 12 + 16] = "";
    for (int i = 0; i < RUN_CHECK_MAX; i++)
        strcat(text, i ? ",failures=0" : "failures=0");
    run_check_list_t list;
    char err[512];
    assert_int_equal(run_check_parse(text, &list, err, sizeof err), 0);
    assert_int_equal(list.count, RUN_CHECK_MAX);
    strcat(text, ",ok>1");
    assert_int_equal(run_check_parse(text, &list, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "more than 32 checks, from \"ok>1\""));

    char longer[RUN_CHECK_EXPR_MAX + 16];
    snprintf(longer, sizeof longer, "p99<%0*d", RUN_CHECK_EXPR_MAX, 1);
    assert_int_equal(run_check_parse(longer, &list, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "longer than 95 characters"));
}

/* ---- Evaluation ---- */

/* A closed-loop report: 3 failures in 100, p99 1003.2 ms, no late bucket,
 * no uncorrected figures. */
static const char report_text[] =
    "{\"summary\": {\"issued\": 100, \"ok\": 97, \"failures\": 3, \"http_errors\": {\"502\": 2},"
    " \"timeouts\": 1, \"unfinished\": 0,"
    " \"errors\": {\"connect\": 0, \"read\": 0, \"write\": 0, \"parse\": 0},"
    " \"rps\": 99.7, \"mean_ms\": 1003.1, \"min_ms\": 1001.0, \"max_ms\": 1100.0,"
    " \"late\": null},"
    " \"percentiles_ms\": {\"50\": 1002.9, \"60\": 1003.0, \"70\": 1003.1, \"80\": 1003.1,"
    " \"90\": 1003.1, \"95\": 1003.1, \"99\": 1003.2, \"99.9\": 1100.0, \"100\": 1100.0},"
    " \"percentiles_uncorrected_ms\": null,"
    " \"ceiling\": {\"rps\": 100.0, \"measured_over_ceiling\": 0.997}}";

static json_t *parse_json(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (j == NULL)
        fail_msg("line %d: %s", jerr.line, jerr.text);
    return j;
}

typedef struct {
    const char *expr;
    int pass;
    double value; /* NAN: not measured */
    const char *note;
} eval_case_t;

static const eval_case_t eval_cases[] = {
    {"p99<1100ms", 1, 1003.2, NULL},
    {"p99<1.1s", 1, 1.0032, NULL},
    {"p99<1003.2", 0, 1003.2, NULL},
    {"p99<=1003.2", 1, 1003.2, NULL},
    {"p99>=1003.2", 1, 1003.2, NULL},
    {"p99>1003.2", 0, 1003.2, NULL},
    {"p99=1003.2", 1, 1003.2, NULL},
    {"p99==1003.2004", 1, 1003.2, NULL}, /* within half the JSON's rounding */
    {"p99=1003.201", 0, 1003.2, NULL},
    {"p99!=1003.201", 1, 1003.2, NULL},
    {"p99=1.0032s", 1, 1.0032, NULL},
    {"p99=1003200us", 1, 1003200, NULL},
    /* 1.1 s is 1100 ms exactly, although 1.1 * 1000 is not, as a double */
    {"p99.9=1.1s", 1, 1.1, NULL},
    {"p99.9<1.1s", 0, 1.1, NULL},
    {"p99.9<=1.1s", 1, 1.1, NULL},
    {"p99.9>=1100ms", 1, 1100, NULL},
    {"p99.9<1100000us", 0, 1100000, NULL},
    {"max=1100", 1, 1100, NULL},
    {"min>1000", 1, 1001, NULL},
    {"mean<1003", 0, 1003.1, NULL},
    {"p50<1003", 1, 1002.9, NULL},
    {"failures=0", 0, 3, NULL},
    {"failures=3", 1, 3, NULL},
    {"failures<3", 0, 3, NULL},
    {"ok>=97", 1, 97, NULL},
    {"issued=100", 1, 100, NULL},
    {"timeouts=1", 1, 1, NULL},
    {"unfinished=0", 1, 0, NULL},
    {"errors=0", 1, 0, NULL},
    {"http_errors=2", 1, 2, NULL},
    {"late=0", 1, 0, NULL}, /* null in a closed loop: none can be late */
    {"rps>95", 1, 99.7, NULL},
    {"rps>=99.7", 1, 99.7, NULL},
    {"rps>99.7", 0, 99.7, NULL},
    {"error_rate<1%", 0, 3, NULL},
    {"error_rate=3%", 1, 3, NULL}, /* 3 / 100 against 3 * 0.01 */
    {"error_rate>=3%", 1, 3, NULL},
    {"error_rate<=0.03", 1, 0.03, NULL},
    {"error_rate>0.03", 0, 0.03, NULL},
    {"of_ceiling>=99%", 1, 99.7, NULL},
    {"of_ceiling>0.998", 0, 0.997, NULL},
    /* null figures fail, whatever the operator: never skipped */
    {"p99_uncorrected<5000", 0, NAN, "not measured"},
    {"p99_uncorrected>0", 0, NAN, "not measured"},
    {"p99.9_uncorrected!=1", 0, NAN, "not measured"},
};

static void test_eval_table(void **state)
{
    (void)state;
    json_t *report = parse_json(report_text);
    for (size_t i = 0; i < sizeof eval_cases / sizeof eval_cases[0]; i++) {
        const eval_case_t *c = &eval_cases[i];
        run_check_list_t list;
        char err[512];
        if (run_check_parse(c->expr, &list, err, sizeof err) != 0)
            fail_msg("\"%s\": %s", c->expr, err);
        run_check_result_t r;
        int failed = run_check_eval(&list, report, &r);
        if (r.pass != c->pass || failed != !c->pass)
            fail_msg("\"%s\": pass %d, expected %d (value %.17g)", c->expr, r.pass, c->pass,
                     r.value);
        if (isnan(c->value)) {
            assert_true(isnan(r.value));
            assert_string_equal(r.note, c->note);
        } else {
            if (fabs(r.value - c->value) > 1e-9)
                fail_msg("\"%s\": value %.17g, expected %g", c->expr, r.value, c->value);
            assert_null(r.note);
        }
    }
    json_decref(report);
}

static void eval_one(const char *report_json, const char *expr, run_check_result_t *r)
{
    json_t *report = parse_json(report_json);
    run_check_list_t list;
    char err[512];
    if (run_check_parse(expr, &list, err, sizeof err) != 0)
        fail_msg("\"%s\": %s", expr, err);
    run_check_eval(&list, report, r);
    json_decref(report);
}

static void test_eval_nulls(void **state)
{
    (void)state;
    run_check_result_t r;
    /* no ceiling */
    eval_one("{\"summary\": {\"rps\": 1}, \"ceiling\": null}", "of_ceiling>0", &r);
    assert_false(r.pass);
    assert_true(isnan(r.value));
    assert_string_equal(r.note, "no ceiling");
    /* no response: percentiles and latencies null */
    eval_one("{\"summary\": {\"issued\": 0, \"failures\": 0, \"max_ms\": null},"
             " \"percentiles_ms\": null}", "p99<1", &r);
    assert_false(r.pass);
    assert_string_equal(r.note, "not measured");
    eval_one("{\"summary\": {\"max_ms\": null}}", "max<1", &r);
    assert_false(r.pass);
    assert_string_equal(r.note, "not measured");
    eval_one("{\"summary\": {\"issued\": 0, \"failures\": 0}}", "error_rate<1%", &r);
    assert_false(r.pass);
    assert_string_equal(r.note, "no request issued");
    /* late: absent (an older closed-loop report) is 0 too; counted when open */
    eval_one("{\"summary\": {\"issued\": 5}}", "late=0", &r);
    assert_true(r.pass);
    assert_true(r.value == 0);
    eval_one("{\"summary\": {\"late\": 4}}", "late=0", &r);
    assert_false(r.pass);
    assert_true(r.value == 4);
    /* ...but with no summary at all nothing is measured */
    eval_one("{}", "late=0", &r);
    assert_false(r.pass);
    assert_string_equal(r.note, "not measured");
    /* an open loop's uncorrected figures */
    eval_one("{\"percentiles_uncorrected_ms\": {\"99.9\": 12.5}}", "p99.9_uncorrected<13ms", &r);
    assert_true(r.pass);
    assert_true(r.value == 12.5);
    /* a bucket object with a non-number member is not a count */
    eval_one("{\"summary\": {\"http_errors\": {\"502\": \"x\"}}}", "http_errors=0", &r);
    assert_false(r.pass);
    assert_string_equal(r.note, "not measured");
    eval_one("{\"summary\": {\"http_errors\": {}}}", "http_errors=0", &r);
    assert_true(r.pass);
}

static void test_eval_counts_failed(void **state)
{
    (void)state;
    json_t *report = parse_json(report_text);
    run_check_list_t list;
    char err[512];
    assert_int_equal(run_check_parse("p99<1100ms,rps>95,failures=0,p99_uncorrected<1", &list,
                                     err, sizeof err), 0);
    run_check_result_t results[RUN_CHECK_MAX];
    assert_int_equal(run_check_eval(&list, report, results), 2);
    json_decref(report);
}

/* ---- Output ---- */

static void test_json(void **state)
{
    (void)state;
    json_t *report = parse_json(report_text);
    run_check_list_t list;
    char err[512];
    assert_int_equal(run_check_parse("p99<1.1s,failures=0,p99_uncorrected<1,error_rate<1%",
                                     &list, err, sizeof err), 0);
    run_check_result_t results[RUN_CHECK_MAX];
    run_check_eval(&list, report, results);
    json_t *checks = run_check_json(&list, results);
    assert_non_null(checks);
    char *text = json_dumps(checks, JSON_COMPACT | JSON_REAL_PRECISION(15));
    assert_string_equal(
        text,
        "[{\"expr\":\"p99<1.1s\",\"metric\":\"p99\",\"op\":\"<\",\"threshold\":1.1,"
        "\"unit\":\"s\",\"value\":1.0032,\"pass\":true},"
        "{\"expr\":\"failures=0\",\"metric\":\"failures\",\"op\":\"=\",\"threshold\":0.0,"
        "\"unit\":null,\"value\":3.0,\"pass\":false},"
        "{\"expr\":\"p99_uncorrected<1\",\"metric\":\"p99_uncorrected\",\"op\":\"<\","
        "\"threshold\":1.0,\"unit\":\"ms\",\"value\":null,\"pass\":false},"
        "{\"expr\":\"error_rate<1%\",\"metric\":\"error_rate\",\"op\":\"<\",\"threshold\":1.0,"
        "\"unit\":\"%\",\"value\":3.0,\"pass\":false}]");
    free(text);
    json_decref(checks);
    json_decref(report);
}

static char *printed(const char *expr, const char *report_json)
{
    json_t *report = parse_json(report_json);
    run_check_list_t list;
    char err[512];
    if (run_check_parse(expr, &list, err, sizeof err) != 0)
        fail_msg("\"%s\": %s", expr, err);
    run_check_result_t results[RUN_CHECK_MAX];
    run_check_eval(&list, report, results);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    run_check_print(f, &list, results);
    fclose(f);
    json_decref(report);
    return text;
}

static void test_print(void **state)
{
    (void)state;
    char *text = printed("p99<1100ms", report_text);
    assert_string_equal(text, "check p99<1100ms: 1003.2 ms  pass\n"
                              "checks: 1 passed, 0 failed\n");
    free(text);
    text = printed("p99<1100ms,rps>95,failures=0,error_rate<1%,p99 < 1.1s,p99_uncorrected<1",
                   report_text);
    assert_string_equal(text, "check p99<1100ms:        1003.2 ms     pass\n"
                              "check rps>95:            99.7          pass\n"
                              "check failures=0:        3             FAIL\n"
                              "check error_rate<1%:     3%            FAIL\n"
                              "check p99 < 1.1s:        1.0032 s      pass\n"
                              "check p99_uncorrected<1: not measured  FAIL\n"
                              "checks: 3 passed, 3 failed\n");
    free(text);
    text = printed("p99<1us,of_ceiling<=1%", report_text);
    assert_string_equal(text, "check p99<1us:        1003200 us  FAIL\n"
                              "check of_ceiling<=1%: 99.7%       FAIL\n"
                              "checks: 0 passed, 2 failed\n");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_unknown_metric),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_eval_table),
        cmocka_unit_test(test_eval_nulls),
        cmocka_unit_test(test_eval_counts_failed),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
