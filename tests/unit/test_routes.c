/* Routing and the /io verdict: which status each outcome gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http_response.h"
#include "routes.h"

static const variant_t V = {.name = "t", .model = "m", .keep_alive = 1};
static server_config_t cfg = {.fanout = 10, .threads = 1, .workers = 1, .cpu_iterations = 3,
                              .slow_api_url = "http://u/"};

static void parse(const char *raw, http_request_t *req)
{
    size_t used;
    http_request_init(req);
    assert_int_equal(http_request_feed(req, raw, strlen(raw), &used), HTTP_REQ_DONE);
}

static route_t route_for(const char *raw)
{
    http_request_t req;
    parse(raw, &req);
    return route_of(&req);
}

static void test_route_of(void **state)
{
    (void)state;
    assert_int_equal(route_for("GET /io HTTP/1.1\r\n\r\n"), ROUTE_IO);
    assert_int_equal(route_for("GET /io?x=1 HTTP/1.1\r\n\r\n"), ROUTE_IO);
    assert_int_equal(route_for("GET /cpu HTTP/1.1\r\n\r\n"), ROUTE_CPU);
    assert_int_equal(route_for("GET /healthz HTTP/1.0\r\n\r\n"), ROUTE_HEALTHZ);
    assert_int_equal(route_for("GET /iox HTTP/1.1\r\n\r\n"), ROUTE_NOT_FOUND);
    assert_int_equal(route_for("GET / HTTP/1.1\r\n\r\n"), ROUTE_NOT_FOUND);
    assert_int_equal(route_for("POST /io HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), ROUTE_BAD_METHOD);
    assert_int_equal(route_for("DELETE /nope HTTP/1.1\r\n\r\n"), ROUTE_NOT_FOUND);
}

static void test_io_verdict(void **state)
{
    (void)state;
    fanout_result_t all_ok = {.calls = 10, .ok = 10};
    fanout_result_t one_failed = {.calls = 10, .ok = 9, .failed = 1};
    fanout_result_t one_slow = {.calls = 10, .ok = 8, .failed = 1, .timed_out = 1};
    fanout_result_t none = {.calls = 10};
    assert_int_equal(fanout_status(&all_ok), 200);
    assert_int_equal(fanout_status(&one_failed), 502);
    assert_int_equal(fanout_status(&one_slow), 504); /* a timeout outranks a failure */
    assert_int_equal(fanout_status(&none), 502);

    response_t res;
    respond_io(&res, &one_slow, 1);
    assert_int_equal(res.status, 504);
    assert_non_null(strstr(res.buf, "HTTP/1.1 504 Gateway Timeout\r\n"));
    assert_non_null(strstr(res.buf, "\"error\":\"upstream timeout\""));
    respond_io(&res, &all_ok, 0);
    assert_non_null(strstr(res.buf, "Connection: close\r\n"));
    assert_non_null(strstr(res.buf, "{\"calls\":10,\"ok\":10,"));
}

static void test_responses(void **state)
{
    (void)state;
    server_variant = &V;
    server_config = &cfg;
    server_capacity = 7;
    response_t res;
    http_request_t get;
    parse("GET / HTTP/1.1\r\n\r\n", &get);
    respond_now(&res, ROUTE_HEALTHZ, &get, 1);
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.buf, "\"capacity\":7"));
    respond_now(&res, ROUTE_CPU, &get, 1);
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.buf, "\"iterations\":3"));
    respond_now(&res, ROUTE_NOT_FOUND, &get, 1);
    assert_int_equal(res.status, 404);
    respond_rejected(&res, HTTP_REQ_TOO_LARGE, "x");
    assert_int_equal(res.status, 431);
    respond_rejected(&res, HTTP_REQ_BAD, "x");
    assert_int_equal(res.status, 400);
    assert_non_null(strstr(res.buf, "Connection: close"));
    /* Content-Length matches the body. */
    const char *body = strstr(res.buf, "\r\n\r\n") + 4;
    char want[64];
    snprintf(want, sizeof want, "Content-Length: %zu\r\n", strlen(body));
    assert_non_null(strstr(res.buf, want));
}

/* HEAD: 405 (404 elsewhere) and the head alone, Content-Length as a GET
 * would have it; a body would be read as the next response. */
static void test_head(void **state)
{
    (void)state;
    http_request_t head;
    parse("HEAD /healthz HTTP/1.1\r\n\r\n", &head);
    assert_int_equal(route_of(&head), ROUTE_BAD_METHOD);
    response_t res;
    respond_now(&res, route_of(&head), &head, 1);
    assert_int_equal(res.status, 405);
    assert_true(res.len > 4);
    assert_memory_equal(res.buf + res.len - 4, "\r\n\r\n", 4);
    assert_non_null(strstr(res.buf, "HTTP/1.1 405 "));
    assert_null(memmem(res.buf, (size_t)res.len, "\"error\"", 7));
    assert_int_equal(http_response_head_len("no blank line", 13), 13);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_of),
        cmocka_unit_test(test_io_verdict),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_head),
    };
    return cmocka_run_group_tests_name("routes", tests, NULL, NULL);
}
