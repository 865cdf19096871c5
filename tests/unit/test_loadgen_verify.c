/* loadgen/verify.c: reading slowapi's calls_total with loadgen's own HTTP
 * client (health.c) from a scripted /stats in this process, and the
 * verdicts: ok within 1%, short, over, and n/a with the reason (no
 * expectation, no counter, a counter that went back). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net.h"
#include "url.h"
#include "verify.h"

/* One connection's scripted answer and what was asked. */
typedef struct stats_server {
    int fd;
    int port;
    const char *response;
    char request_line[256];
    pthread_t thread;
} stats_server_t;

static void *stats_serve_one(void *arg)
{
    stats_server_t *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    char buf[2048];
    size_t len = 0;
    while (len < sizeof buf - 1) {
        ssize_t n = read(c, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL)
            break;
    }
    buf[len] = '\0';
    snprintf(s->request_line, sizeof s->request_line, "%.*s", (int)strcspn(buf, "\r"), buf);
    (void)net_send_all(c, s->response, strlen(s->response));
    close(c);
    return NULL;
}

/* Answer one GET with response; returns the reading's rc and calls. */
static int read_calls_from(const char *response, long long *calls, char *request_line,
                           char *err, size_t err_len)
{
    stats_server_t s = {.response = response};
    char nerr[NET_ERR_LEN], url_text[64];
    s.fd = net_listen_tcp("127.0.0.1", 0, 16, 0, 0, nerr);
    assert_true(s.fd >= 0);
    s.port = net_local_port(s.fd);
    assert_int_equal(pthread_create(&s.thread, NULL, stats_serve_one, &s), 0);
    /* A base URL with a query and a slash: /stats replaces both. */
    snprintf(url_text, sizeof url_text, "http://127.0.0.1:%d/?delay=1", s.port);
    lg_url_t url;
    assert_int_equal(lg_url_parse(url_text, &url, err, err_len), 0);
    assert_int_equal(lg_url_resolve(&url, err, err_len), 0);
    int rc = lg_verify_read_calls(&url, calls, err, err_len);
    assert_int_equal(pthread_join(s.thread, NULL), 0);
    close(s.fd);
    strcpy(request_line, s.request_line);
    return rc;
}

static void test_read_calls_total(void **state)
{
    (void)state;
    static const char body[] = "{\"answered\":7,\"calls_total\":123456789012,\"connections\":1}";
    char response[256], line[256], err[256];
    snprintf(response, sizeof response,
             "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    long long calls = -1;
    assert_int_equal(read_calls_from(response, &calls, line, err, sizeof err), 0);
    assert_string_equal(line, "GET /stats HTTP/1.1");
    assert_true(calls == 123456789012LL);
}

/* A slowapi without the counter: a reason, not a number. */
static void test_read_calls_missing(void **state)
{
    (void)state;
    static const char body[] = "{\"answered\":7}";
    char response[256], line[256], err[256];
    snprintf(response, sizeof response,
             "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    long long calls = -1;
    assert_int_equal(read_calls_from(response, &calls, line, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "no calls_total"));
    assert_true(calls == -1);
}

static void test_read_calls_bad_answers(void **state)
{
    (void)state;
    char line[256], err[256];
    long long calls = -1;
    assert_true(read_calls_from("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", &calls,
                                line, err, sizeof err) < 0);
    assert_non_null(strstr(err, "404"));
    assert_true(read_calls_from("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", &calls, line,
                                err, sizeof err) < 0);
    assert_non_null(strstr(err, "not a JSON object"));
    assert_true(read_calls_from("HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n{\"calls_total\":-3}",
                                &calls, line, err, sizeof err) < 0);
    assert_non_null(strstr(err, "not a count"));
    assert_true(calls == -1);
}

/* Nobody listening: the reading fails at once with the reason. */
static void test_read_refused(void **state)
{
    (void)state;
    char nerr[NET_ERR_LEN], url_text[64], err[256];
    int fd = net_listen_tcp("127.0.0.1", 0, 0, 0, 0, nerr); /* bound, not listening */
    assert_true(fd >= 0);
    snprintf(url_text, sizeof url_text, "http://127.0.0.1:%d", net_local_port(fd));
    lg_url_t url;
    assert_int_equal(lg_url_parse(url_text, &url, err, sizeof err), 0);
    assert_int_equal(lg_url_resolve(&url, err, sizeof err), 0);
    lg_verify_reading_t r;
    lg_verify_read(&url, "before the load", &r);
    close(fd);
    assert_false(r.ok);
    assert_non_null(strstr(r.why, "before the load: connect"));
}

static lg_verify_t judged(long long calls, uint64_t answered, long long expected,
                          uint64_t not_answered)
{
    lg_verify_t v = {.counted = 1, .upstream_calls = calls, .answered = answered,
                     .expected = expected};
    lg_verify_judge(&v, NULL, not_answered);
    return v;
}

static void test_verdicts(void **state)
{
    (void)state;
    lg_verify_t v = judged(30000, 3000, 10, 0);
    assert_string_equal(v.verdict, "ok");
    assert_true(v.calls_per_answer == 10.0);
    assert_string_equal(v.note, "");
    /* Within 1% of the fan-out either way: ok; beyond: short or over. */
    assert_string_equal(judged(29700, 3000, 10, 0).verdict, "ok");   /* 9.90 */
    assert_string_equal(judged(29690, 3000, 10, 0).verdict, "short"); /* 9.897 */
    assert_string_equal(judged(30300, 3000, 10, 0).verdict, "ok");   /* 10.10 */
    assert_string_equal(judged(30310, 3000, 10, 0).verdict, "over");  /* 10.103 */
    /* 1% of max(expected, 1): a fan-out of 1 allows 0.01. */
    assert_string_equal(judged(1010, 1000, 1, 0).verdict, "ok");
    assert_string_equal(judged(1011, 1000, 1, 0).verdict, "over");
    /* cpu: no call at all, or over. */
    assert_string_equal(judged(0, 500, 0, 0).verdict, "ok");
    assert_string_equal(judged(1, 500, 0, 0).verdict, "over");
    /* Failures: the verdict stands, the note says why it may drift. */
    v = judged(30050, 3000, 10, 7);
    assert_string_equal(v.verdict, "ok");
    assert_non_null(strstr(v.note, "7 requests failed or were cut off"));
}

static void test_not_applicable(void **state)
{
    (void)state;
    /* No expectation: n/a, with the numbers still there. */
    lg_verify_t v = judged(30000, 3000, -1, 0);
    assert_string_equal(v.verdict, "n/a");
    assert_true(v.calls_per_answer == 10.0);
    assert_non_null(strstr(v.note, "unknown"));
    /* Nothing answered: no ratio. */
    v = judged(500, 0, 10, 50);
    assert_string_equal(v.verdict, "n/a");
    assert_true(v.calls_per_answer < 0);
    assert_non_null(strstr(v.note, "no request was answered"));
    assert_non_null(strstr(v.note, "; 50 requests failed"));
    /* The counter unread, or gone back: n/a and why. */
    lg_verify_reading_t before = {.ok = 0, .why = "before the load: connect: refused"};
    lg_verify_reading_t after = {0};
    lg_verify_make(&v, &before, &after, 3000, 10, 0);
    assert_false(v.counted);
    assert_string_equal(v.verdict, "n/a");
    assert_non_null(strstr(v.note, "before the load: connect: refused"));
    lg_verify_reading_t b2 = {.ok = 1, .calls = 900}, a2 = {.ok = 1, .calls = 100};
    lg_verify_make(&v, &b2, &a2, 3000, 10, 0);
    assert_false(v.counted);
    assert_non_null(strstr(v.note, "went back from 900 to 100"));
    lg_verify_reading_t a3 = {.ok = 1, .calls = 30900};
    lg_verify_make(&v, &b2, &a3, 3000, 10, 0);
    assert_true(v.counted);
    assert_true(v.upstream_calls == 30000);
    assert_string_equal(v.verdict, "ok");
}

static void test_expected(void **state)
{
    (void)state;
    assert_true(lg_verify_expected("io", 10) == 10);
    assert_true(lg_verify_expected("io", -1) == -1);
    assert_true(lg_verify_expected("cpu", 10) == 0);
    assert_true(lg_verify_expected("root", 10) == -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_calls_total),
        cmocka_unit_test(test_read_calls_missing),
        cmocka_unit_test(test_read_calls_bad_answers),
        cmocka_unit_test(test_read_refused),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_not_applicable),
        cmocka_unit_test(test_expected),
    };
    return cmocka_run_group_tests_name("loadgen verify", tests, NULL, NULL);
}
