/* The loop models' h2c upstream client (services/core/upstream_h2.c)
 * against a real slowapi: the fan-outs' calls as streams of shared
 * connections, and every way a call can end (answered, timed out and
 * cancelled, upstream down, upstream gone with streams in flight) leaves
 * the server answering. test_servers.c has the restart case. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "loadgen_run.h"
#include "variant_case.h"

#define STOP_TIMEOUT_MS 5000
#define IO_TIMEOUT_MS 10000

static variant_case_t cases[] = {
    {"event-loop", "event-loop", {"--upstream-http", "2", NULL}, 0, 1, 20, 0.10},
    {"coroutine-1x50", "coroutine", {"--connections", "50", "--upstream-http", "2", NULL}, 50, 1,
     20, 0.10},
};
enum { EVENT_LOOP, COROUTINE };

static const char io_get[] = "GET /io HTTP/1.1\r\nHost: x\r\n\r\n";

/* A number field of a flat JSON object ("name":N), or -1. */
static long json_number(const char *json, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *p = strstr(json, key);
    return p == NULL ? -1 : strtol(p + strlen(key), NULL, 10);
}

static long slowapi_stat(int port, const char *name)
{
    char body[1024];
    if (http_get(port, "/stats", body, sizeof body, IO_TIMEOUT_MS) != 200)
        return -1;
    return json_number(body, name);
}

/* Every request at the ceiling, over h2c. */
static void test_h2_at_ceiling(void **state)
{
    json_t *report = variant_assert_at_ceiling(*state, 0);
    json_decref(report);
}

/* 20 fan-outs at once (200 calls) share connections: slowapi's peak of
 * open connections grows by a few (at most 100 streams each until its
 * SETTINGS come, then 1000), not by 200 as over HTTP/1.1. */
static void test_h2_streams_share_connections(void **state)
{
    enum { REQUESTS = 20 };
    char body[1024];
    assert_int_equal(http_get(test_slowapi.port, "/stats?reset=1", body, sizeof body,
                              IO_TIMEOUT_MS),
                     200);
    long base = json_number(body, "connections");
    proc_t server;
    assert_int_equal(variant_start_on_slowapi(&server, *state, 0.3, "5"), 0);
    int fds[REQUESTS];
    assert_int_equal(http_send_many(server.port, io_get, sizeof io_get - 1, fds, REQUESTS), 0);
    char resp[4096];
    for (int i = 0; i < REQUESTS; i++) {
        assert_int_equal(http_read_response(fds[i], resp, sizeof resp, IO_TIMEOUT_MS), 200);
        assert_non_null(strstr(resp, "\"ok\":10"));
        close(fds[i]);
    }
    assert_int_equal(http_get(test_slowapi.port, "/stats", body, sizeof body, IO_TIMEOUT_MS), 200);
    long answered = json_number(body, "answered"), peak = json_number(body, "peak_connections");
    print_message("%d fan-outs: slowapi answered %ld calls, peak %ld connections (base %ld)\n",
                  REQUESTS, answered, peak, base);
    assert_int_equal(answered, REQUESTS * 10);
    assert_in_range(peak, 1, base + 3);
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
}

/* Nothing listens: 502, again on the next request (a new connect), and
 * the server goes on. */
static void test_h2_upstream_down_502(void **state)
{
    proc_t server;
    assert_int_equal(variant_start(&server, *state, "http://127.0.0.1:1/?delay=0.1", "5"), 0);
    char body[1024];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(http_get(server.port, "/io", body, sizeof body, IO_TIMEOUT_MS), 502);
        assert_non_null(strstr(body, "\"error\":\"upstream failed\""));
    }
    assert_int_equal(http_get(server.port, "/healthz", NULL, 0, IO_TIMEOUT_MS), 200);
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
}

/* An upstream slower than UPSTREAM_TIMEOUT: 504 after the timeout. The
 * cancelled calls' streams are reset, not the connection: the second
 * request goes on the same one (slowapi's connection count stays). */
static void test_h2_timeout_504(void **state)
{
    proc_t server;
    char body[1024];
    assert_int_equal(variant_start_on_slowapi(&server, *state, 3.0, "0.3"), 0);
    long connections = -1;
    for (int i = 0; i < 2; i++) {
        double t0 = now_ms();
        assert_int_equal(http_get(server.port, "/io", body, sizeof body, IO_TIMEOUT_MS), 504);
        double took_ms = now_ms() - t0;
        print_message("504 after %.1f ms\n", took_ms);
        assert_non_null(strstr(body, "\"error\":\"upstream timeout\""));
        assert_in_range((uintmax_t)took_ms, 299, 1999);
        long now = slowapi_stat(test_slowapi.port, "connections");
        if (connections >= 0)
            assert_int_equal(now, connections);
        connections = now;
    }
    assert_int_equal(http_get(server.port, "/healthz", NULL, 0, IO_TIMEOUT_MS), 200);
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
}

/* 150 fan-outs time out together, twice: 3000 cancelled calls, most on
 * one connection (slowapi's SETTINGS allow 1000 streams on it once the
 * first request has warmed it up). Reset them all and slowapi's nghttp2
 * takes it for a rapid-reset attack (over 1000 RST_STREAMs at once) and
 * ends the connection with GOAWAY, failing its other calls: 502s. Every
 * answer must be 504. */
static void test_h2_mass_timeout_504(void **state)
{
    enum { REQUESTS = 150, ROUNDS = 2 };
    proc_t server;
    char body[1024], resp[4096];
    assert_int_equal(variant_start_on_slowapi(&server, *state, 3.0, "0.3"), 0);
    assert_int_equal(http_get(server.port, "/io", body, sizeof body, IO_TIMEOUT_MS), 504);
    for (int round = 0; round < ROUNDS; round++) {
        int fds[REQUESTS];
        assert_int_equal(http_send_many(server.port, io_get, sizeof io_get - 1, fds, REQUESTS),
                         0);
        int timed_out = 0;
        for (int i = 0; i < REQUESTS; i++) {
            int status = http_read_response(fds[i], resp, sizeof resp, IO_TIMEOUT_MS);
            timed_out += status == 504;
            if (status != 504)
                print_message("round %d, request %d: %d\n", round, i, status);
            close(fds[i]);
        }
        assert_int_equal(timed_out, REQUESTS);
    }
    assert_int_equal(http_get(server.port, "/healthz", NULL, 0, IO_TIMEOUT_MS), 200);
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
}

/* The upstream dies with the fan-out's streams in flight: 502 at once
 * (its calls end with the connection), not after UPSTREAM_TIMEOUT; with
 * the upstream back on its port, the next request is answered. */
static void test_h2_upstream_killed_midway(void **state)
{
    proc_t up, server;
    const char *first[] = {bin_path("slowapi"), "--host", "127.0.0.1", "--port", "0", NULL};
    const char *quiet[] = {"LOG_LEVEL=error", NULL};
    assert_int_equal(proc_start(&up, first, quiet, STOP_TIMEOUT_MS), 0);
    char url[128], port[16], resp[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/?delay=2", up.port);
    snprintf(port, sizeof port, "%d", up.port);
    assert_int_equal(variant_start(&server, *state, url, "8"), 0);
    long before = slowapi_stat(up.port, "connections");
    int fd = tcp_connect(server.port);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, io_get, sizeof io_get - 1, MSG_NOSIGNAL), sizeof io_get - 1);
    double deadline = now_ms() + IO_TIMEOUT_MS;
    while (slowapi_stat(up.port, "connections") <= before)
        assert_true(now_ms() < deadline);
    double t0 = now_ms();
    proc_kill(&up);
    assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 502);
    double took_ms = now_ms() - t0;
    print_message("502 %.1f ms after the upstream died\n", took_ms);
    assert_true(took_ms < 1000);
    close(fd);
    const char *again[] = {bin_path("slowapi"), "--host", "127.0.0.1", "--port", port, NULL};
    assert_int_equal(proc_start(&up, again, quiet, STOP_TIMEOUT_MS), 0);
    char body[1024];
    assert_int_equal(http_get(server.port, "/io", body, sizeof body, IO_TIMEOUT_MS), 200);
    assert_non_null(strstr(body, "\"ok\":10"));
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
    assert_int_equal(proc_stop(&up, STOP_TIMEOUT_MS), 0);
}

#define H2_TESTS(i)                                                                         \
    cmocka_unit_test_prestate_setup_teardown(test_h2_at_ceiling, variant_setup,            \
                                             variant_teardown, &cases[i]),                 \
    cmocka_unit_test_prestate(test_h2_streams_share_connections, &cases[i]),                \
    cmocka_unit_test_prestate(test_h2_upstream_down_502, &cases[i]),                        \
    cmocka_unit_test_prestate(test_h2_timeout_504, &cases[i]),                              \
    cmocka_unit_test_prestate(test_h2_mass_timeout_504, &cases[i]),                         \
    cmocka_unit_test_prestate(test_h2_upstream_killed_midway, &cases[i])

int main(void)
{
    harness_filter_from_env();
    const struct CMUnitTest event_loop[] = {H2_TESTS(EVENT_LOOP)};
    const struct CMUnitTest coroutine[] = {H2_TESTS(COROUTINE)};
    int failed = 0;
    failed += cmocka_run_group_tests_name("event-loop, h2c upstream", event_loop,
                                          variant_group_setup, variant_group_teardown);
    failed += cmocka_run_group_tests_name("coroutine, h2c upstream", coroutine,
                                          variant_group_setup, variant_group_teardown);
    return failed == 0 ? 0 : 1;
}
