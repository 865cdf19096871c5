/* The gRPC variants' contract (proto/bench.proto), asserted against real
 * processes on 127.0.0.1: a real slowapi upstream, grpc-sync and
 * grpc-async, gRPC calls made here through gRPC core's C API, and the real
 * loadgen in --grpc mode. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <grpc/grpc.h>
#include <grpc/support/time.h>

#include "bench.pb-c.h"
#include "grpc_status.h"
#include "grpc_unary.h"
#include "harness.h"
#include "variant_case.h"
#include "health.pb-c.h"
#include "loadgen_run.h"

#define STOP_TIMEOUT_MS VARIANT_STOP_TIMEOUT_MS
#define CALL_TIMEOUT_MS 10000
#define DELAY_S VARIANT_DELAY_S

/* A pool of 5 at c=20: three quarters of the calls wait for a thread. */
static variant_case_t cases[] = {
    {"grpc-sync", "grpc-sync", {"--threads", "5", NULL}, 5, 0, 20, 0.10},
    {"grpc-async", "grpc-async", {NULL}, 0, 0, 20, 0.10},
};
enum { SYNC, ASYNC };

/* One unary call on a new connection. */
static int call(int port, const char *method, const void *req, size_t len,
                grpc_unary_result_t *out)
{
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    grpc_channel *ch = grpc_unary_channel(target, 1);
    if (ch == NULL)
        return -1;
    int rc = grpc_unary_call(ch, method, req, len, CALL_TIMEOUT_MS, out);
    grpc_channel_destroy(ch);
    return rc;
}

/* The status of a call with an empty request; -1 if it could not be made. */
static int call_status(int port, const char *method)
{
    grpc_unary_result_t r;
    if (call(port, method, "", 0, &r) < 0)
        return -1;
    grpc_unary_result_free(&r);
    return r.status;
}

/* Io, Cpu, Describe and the standard health check answer. */
static void test_calls(void **state)
{
    variant_fixture_t *f = *state;
    int port = f->server.port;
    grpc_unary_result_t r;

    assert_int_equal(call(port, "/grpc.health.v1.Health/Check", "", 0, &r), 0);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    Grpc__Health__V1__HealthCheckResponse *health =
        grpc__health__v1__health_check_response__unpack(NULL, r.reply_len, (uint8_t *)r.reply);
    assert_non_null(health);
    assert_int_equal(health->status,
                     GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    grpc__health__v1__health_check_response__free_unpacked(health, NULL);
    grpc_unary_result_free(&r);

    /* A service the server does not have: NOT_FOUND, as gRPC's own
     * health service answers. The request names it in field 1. */
    const char other[] = "\x0a\x05other";
    assert_int_equal(call(port, "/grpc.health.v1.Health/Check", other, sizeof other - 1, &r), 0);
    assert_int_equal(r.status, GRPC_STATUS_NOT_FOUND);
    grpc_unary_result_free(&r);

    assert_int_equal(call(port, "/bench.Bench/Describe", "", 0, &r), 0);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    Bench__DescribeReply *desc = bench__describe_reply__unpack(NULL, r.reply_len, (uint8_t *)r.reply);
    assert_non_null(desc);
    char want[128];
    snprintf(want, sizeof want, "\"variant\":\"%s\"", f->vc->variant);
    assert_non_null(strstr(desc->json, want));
    snprintf(want, sizeof want, "\"capacity\":%d", f->vc->capacity);
    assert_non_null(strstr(desc->json, want));
    assert_non_null(strstr(desc->json, "\"transport\":\"grpc\""));
    bench__describe_reply__free_unpacked(desc, NULL);
    grpc_unary_result_free(&r);

    double t0 = now_ms();
    assert_int_equal(call(port, "/bench.Bench/Io", "", 0, &r), 0);
    double took_ms = now_ms() - t0;
    assert_int_equal(r.status, GRPC_STATUS_OK);
    Bench__IoReply *io = bench__io_reply__unpack(NULL, r.reply_len, (uint8_t *)r.reply);
    assert_non_null(io);
    assert_int_equal(io->calls, 10);
    assert_int_equal(io->ok, 10);
    bench__io_reply__free_unpacked(io, NULL);
    grpc_unary_result_free(&r);
    /* Ten calls of 100 ms made concurrently: one delay, not ten. */
    assert_true(took_ms >= DELAY_S * 1000);
    assert_true(took_ms < DELAY_S * 1000 * 3);

    assert_int_equal(call(port, "/bench.Bench/Cpu", "", 0, &r), 0);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    Bench__CpuReply *cpu = bench__cpu_reply__unpack(NULL, r.reply_len, (uint8_t *)r.reply);
    assert_non_null(cpu);
    assert_int_equal(cpu->iterations, 1000);
    bench__cpu_reply__free_unpacked(cpu, NULL);
    grpc_unary_result_free(&r);
}

/* Unknown method, malformed and oversized messages get their statuses,
 * and the server goes on serving. */
static void test_bad_input(void **state)
{
    variant_fixture_t *f = *state;
    int port = f->server.port;
    grpc_unary_result_t r;

    assert_int_equal(call_status(port, "/bench.Bench/Nope"), GRPC_STATUS_UNIMPLEMENTED);
    assert_int_equal(call_status(port, "/no.Such/Service"), GRPC_STATUS_UNIMPLEMENTED);
    /* Watch is the health service's streaming call: not served. */
    assert_int_equal(call_status(port, "/grpc.health.v1.Health/Watch"),
                     GRPC_STATUS_UNIMPLEMENTED);

    /* Field 1, length-delimited, says 5 bytes and has 2: not protobuf. */
    const char truncated[] = "\x0a\x05" "ab";
    assert_int_equal(call(port, "/bench.Bench/Io", truncated, sizeof truncated - 1, &r), 0);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    grpc_unary_result_free(&r);
    /* Wire type 7 does not exist. */
    assert_int_equal(call(port, "/bench.Bench/Cpu", "\xff\xff", 2, &r), 0);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    grpc_unary_result_free(&r);
    assert_int_equal(call(port, "/grpc.health.v1.Health/Check", truncated, sizeof truncated - 1,
                          &r), 0);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    grpc_unary_result_free(&r);

    /* Over the server's 64 KiB limit: gRPC refuses it itself. */
    size_t big_len = 100 * 1024;
    char *big = calloc(1, big_len);
    assert_non_null(big);
    assert_int_equal(call(port, "/bench.Bench/Io", big, big_len, &r), 0);
    assert_int_equal(r.status, GRPC_STATUS_RESOURCE_EXHAUSTED);
    grpc_unary_result_free(&r);
    free(big);

    assert_int_equal(call_status(port, "/grpc.health.v1.Health/Check"), GRPC_STATUS_OK);
    assert_int_equal(call_status(port, "/bench.Bench/Io"), GRPC_STATUS_OK);
}

/* Upstream down: UNAVAILABLE, and the server goes on. */
static void test_upstream_down(void **state)
{
    const variant_case_t *vc = *state;
    proc_t server;
    /* Port 1 on loopback: nothing listens there, connections are refused. */
    assert_int_equal(variant_start(&server, vc, "http://127.0.0.1:1/?delay=0.1", "5"), 0);
    grpc_unary_result_t r;
    assert_int_equal(call(server.port, "/bench.Bench/Io", "", 0, &r), 0);
    assert_int_equal(r.status, GRPC_STATUS_UNAVAILABLE);
    assert_non_null(strstr(r.details, "upstream failed"));
    assert_int_equal(r.initial_metadata, 1); /* the server answered: lab-variant */
    grpc_unary_result_free(&r);
    assert_int_equal(call_status(server.port, "/grpc.health.v1.Health/Check"), GRPC_STATUS_OK);
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
}

/* An upstream slower than UPSTREAM_TIMEOUT: DEADLINE_EXCEEDED after it,
 * long before the upstream would have answered (the client's own deadline
 * is 10 s). From 299 ms: curl's timeouts can fire up to 1 ms early (see
 * test_servers.c). */
static void test_upstream_timeout(void **state)
{
    const variant_case_t *vc = *state;
    proc_t server;
    assert_int_equal(variant_start_on_slowapi(&server, vc, 3.0, "0.3"), 0);
    grpc_unary_result_t r;
    double t0 = now_ms();
    assert_int_equal(call(server.port, "/bench.Bench/Io", "", 0, &r), 0);
    double took_ms = now_ms() - t0;
    assert_int_equal(r.status, GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_non_null(strstr(r.details, "upstream timeout"));
    grpc_unary_result_free(&r);
    print_message("%s: DEADLINE_EXCEEDED after %.1f ms\n", vc->variant, took_ms);
    assert_in_range((uintmax_t)took_ms, 299, 1999);
    assert_int_equal(call_status(server.port, "/grpc.health.v1.Health/Check"), GRPC_STATUS_OK);
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
}

/* A slowapi of the test's own on port (0: any free one), injecting faults
 * into every call (FAULTS, as run.sh --faults sets it; NULL: none). */
static void faulty_slowapi_start(proc_t *up, int port, const char *faults)
{
    char port_s[16], faults_env[64];
    snprintf(port_s, sizeof port_s, "%d", port);
    snprintf(faults_env, sizeof faults_env, "FAULTS=%s", faults != NULL ? faults : "");
    const char *argv[] = {bin_path("slowapi"), "--host", "127.0.0.1", "--port", port_s, NULL};
    const char *env[] = {"LOG_LEVEL=error", faults != NULL ? faults_env : NULL, NULL};
    assert_int_equal(proc_start(up, argv, env, VARIANT_START_TIMEOUT_MS), 0);
}

/* An Io call that must succeed: OK with every upstream call ok. */
static void assert_io_ok(int port)
{
    grpc_unary_result_t r;
    assert_int_equal(call(port, "/bench.Bench/Io", "", 0, &r), 0);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    Bench__IoReply *io = bench__io_reply__unpack(NULL, r.reply_len, (uint8_t *)r.reply);
    assert_non_null(io);
    assert_int_equal(io->calls, 10);
    assert_int_equal(io->ok, 10);
    bench__io_reply__free_unpacked(io, NULL);
    grpc_unary_result_free(&r);
}

/* slowapi's injected faults as a gRPC variant answers them (issue 13).
 * The mapping, grpc_service.c's grpc_reply_io on the fan-out's verdict
 * (fanout_status, the HTTP variants' 502 and 504):
 *   error (500 after the delay)      -> UNAVAILABLE        (HTTP: 502)
 *   reset (TCP RST; h2c RST_STREAM)  -> UNAVAILABLE        (HTTP: 502)
 *   hang (never answered)            -> DEADLINE_EXCEEDED  at UPSTREAM_TIMEOUT (HTTP: 504)
 * UNAVAILABLE is what gRPC itself makes of a 502 (doc/http-grpc-status-
 * mapping.md): a dependency failed, the call may be retried. The status
 * message says which and counts the calls; the call carries the variant's
 * initial metadata, so it is the server's answer, not one gRPC made up
 * for a broken connection. Every call faults (100%, the process's FAULTS),
 * so the server's retry of a call on a fresh connection faults too.
 * One server sees all three in turn, the upstream restarted on the same
 * port between them: after each fault the health check answers at once,
 * and once the upstream is sound again an Io call is OK, 10 of 10. */
static void upstream_faults_case(const variant_case_t *base, const char *http)
{
    static const struct {
        const char *faults;
        int status;
        const char *details;
    } faults[] = {
        {"error=100%", GRPC_STATUS_UNAVAILABLE,
         "upstream failed: 0 of 10 upstream calls ok, 10 failed, 0 timed out (upstream answered 500)"},
        {"reset=100%", GRPC_STATUS_UNAVAILABLE,
         "upstream failed: 0 of 10 upstream calls ok, 10 failed, 0 timed out"},
        {"hang=100%", GRPC_STATUS_DEADLINE_EXCEEDED,
         "upstream timeout: 0 of 10 upstream calls ok, 0 failed, 10 timed out"},
    };
    variant_case_t vc = *base;
    variant_add_setting(&vc, "--upstream-http", http);
    proc_t up, server;
    faulty_slowapi_start(&up, 0, NULL);
    int up_port = up.port;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/?delay=0.02", up_port);
    assert_int_equal(variant_start(&server, &vc, url, "0.3"), 0);
    assert_io_ok(server.port);
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        assert_int_equal(proc_stop(&up, STOP_TIMEOUT_MS), 0);
        faulty_slowapi_start(&up, up_port, faults[i].faults);
        grpc_unary_result_t r;
        double t0 = now_ms();
        assert_int_equal(call(server.port, "/bench.Bench/Io", "", 0, &r), 0);
        double took_ms = now_ms() - t0;
        print_message("%s over %s, upstream %s: %s after %.1f ms: %s\n", vc.variant, http,
                      faults[i].faults, grpc_status_name(r.status), took_ms, r.details);
        assert_int_equal(r.status, faults[i].status);
        assert_non_null(strstr(r.details, faults[i].details));
        assert_int_equal(r.initial_metadata, 1);
        grpc_unary_result_free(&r);
        if (faults[i].status == GRPC_STATUS_DEADLINE_EXCEEDED) /* at the 0.3 s timeout */
            assert_in_range((uintmax_t)took_ms, 299, 1999);
        assert_int_equal(call_status(server.port, "/grpc.health.v1.Health/Check"),
                         GRPC_STATUS_OK);
        assert_int_equal(proc_stop(&up, STOP_TIMEOUT_MS), 0);
        faulty_slowapi_start(&up, up_port, NULL);
        assert_io_ok(server.port);
    }
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
    assert_int_equal(proc_stop(&up, STOP_TIMEOUT_MS), 0);
}

static void test_upstream_faults(void **state)
{
    upstream_faults_case(*state, "1.1");
    upstream_faults_case(*state, "2");
}

/* Under load (loadgen --grpc) the model reaches its ceiling,
 * min(c, capacity) / delay; every call is ok and none is faster than the
 * upstream delay; the report is loadgen's usual one. */
static void test_throughput_at_ceiling(void **state)
{
    variant_fixture_t *f = *state;
    json_t *report = variant_assert_at_ceiling(f, 1);
    json_t *config = json_object_get(report, "config");
    assert_string_equal(json_string_value(json_object_get(config, "protocol")), "grpc");
    assert_string_equal(json_string_value(json_object_get(report, "variant")), f->vc->variant);
    json_decref(report);
}

/* loadgen --grpc's buckets: a status other than OK by its code, a missing
 * server as connect errors, the deadline as timeouts; issued = the sum. */
static void test_loadgen_buckets(void **state)
{
    variant_fixture_t *f = *state;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bench.Bench/Nope", f->server.port);
    const char *unknown[] = {"--grpc", "-c", "2", "-n", "20", url, NULL};
    json_t *report = loadgen_run(unknown, 30000);
    assert_non_null(report);
    assert_true(report_buckets_add_up(report));
    assert_int_equal((int)report_number(report, "issued"), 20);
    json_t *errors = json_object_get(json_object_get(report, "summary"), "http_errors");
    assert_int_equal((int)json_integer_value(json_object_get(errors, "12")), 20);
    json_decref(report);

    /* Nothing listens on port 1. */
    const char *refused[] = {"--grpc", "-c", "2", "-d", "0.5", "http://127.0.0.1:1/io", NULL};
    report = loadgen_run(refused, 30000);
    assert_non_null(report);
    assert_true(report_buckets_add_up(report));
    assert_int_equal((int)report_number(report, "ok"), 0);
    json_t *conn = json_object_get(json_object_get(report, "summary"), "errors");
    assert_true(json_integer_value(json_object_get(conn, "connect")) > 0);
    assert_true(report_number(report, "failures") == report_number(report, "issued"));
    json_decref(report);

    /* A 50 ms deadline on 100 ms calls: every one ends DEADLINE_EXCEEDED,
     * a timeout when loadgen's clock had reached the deadline, else (under
     * the sanitizers about 1 run in 3, one call) counted by its code with
     * its latency, as other statuses are. Which side's clock is early is
     * not yet known: see the closing note of issue 10. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/io", f->server.port);
    const char *late[] = {"--grpc", "-c", "2", "-n", "4", "--timeout", "0.05", url, NULL};
    report = loadgen_run(late, 30000);
    assert_non_null(report);
    assert_true(report_buckets_add_up(report));
    errors = json_object_get(json_object_get(report, "summary"), "http_errors");
    assert_int_equal((int)report_number(report, "timeouts") +
                         (int)json_integer_value(json_object_get(errors, "4")), 4);
    assert_int_equal((int)report_number(report, "ok"), 0);
    json_decref(report);
}

/* slowapi's count of open connections, from its /stats; -1 on failure. */
static int slowapi_connections(void)
{
    char body[1024];
    if (http_get(test_slowapi.port, "/stats", body, sizeof body, CALL_TIMEOUT_MS) != 200)
        return -1;
    const char *p = strstr(body, "\"connections\":");
    return p == NULL ? -1 : atoi(p + strlen("\"connections\":"));
}

/* An Io call in flight, made by a thread of its own (gRPC's client makes
 * progress only while a thread waits on its completion queue). */
typedef struct {
    pthread_t thread;
    int port;
    long timeout_ms;
    grpc_unary_result_t result;
    int rc;
} pending_call_t;

static void *pending_call_main(void *arg)
{
    pending_call_t *p = arg;
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", p->port);
    grpc_channel *ch = grpc_unary_channel(target, 1);
    p->rc = ch == NULL ? -1
                       : grpc_unary_call(ch, "/bench.Bench/Io", "", 0, p->timeout_ms, &p->result);
    if (ch != NULL)
        grpc_channel_destroy(ch);
    return NULL;
}

/* Start the call and return once its fan-out has reached slowapi (seen on
 * /stats, not guessed with a sleep). */
static void io_in_flight(pending_call_t *p, int port, long timeout_ms)
{
    int before = slowapi_connections();
    assert_true(before >= 0);
    memset(p, 0, sizeof *p);
    p->port = port;
    p->timeout_ms = timeout_ms;
    assert_int_equal(pthread_create(&p->thread, NULL, pending_call_main, p), 0);
    double deadline_ms = now_ms() + CALL_TIMEOUT_MS;
    while (slowapi_connections() < before + 10)
        assert_true(now_ms() < deadline_ms);
}

/* Wait for the call's end; returns its status. */
static int io_finish(pending_call_t *p)
{
    assert_int_equal(pthread_join(p->thread, NULL), 0);
    assert_int_equal(p->rc, 0);
    grpc_unary_result_free(&p->result);
    return p->result.status;
}

/* SIGTERM with a call in flight: it still gets its answer, then the
 * server exits 0. */
static void test_stop_lets_call_finish(void **state)
{
    const variant_case_t *vc = *state;
    proc_t server;
    assert_int_equal(variant_start_on_slowapi(&server, vc, 1.0, "5"), 0);
    pending_call_t p;
    io_in_flight(&p, server.port, CALL_TIMEOUT_MS);
    assert_int_equal(kill(server.pid, SIGTERM), 0);
    assert_int_equal(io_finish(&p), GRPC_STATUS_OK);
    assert_int_equal(proc_wait(&server, STOP_TIMEOUT_MS), 0);
}

/* SIGTERM after the client gave up on its call (a 500 ms deadline) with
 * the fan-out (1 s) still running: the server drops the answer and exits 0
 * (under ASan: without touching freed memory). */
static void test_stop_after_client_left(void **state)
{
    const variant_case_t *vc = *state;
    proc_t server;
    assert_int_equal(variant_start_on_slowapi(&server, vc, 1.0, "5"), 0);
    pending_call_t p;
    io_in_flight(&p, server.port, 500);
    assert_int_equal(io_finish(&p), GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_int_equal(kill(server.pid, SIGTERM), 0);
    assert_int_equal(proc_wait(&server, STOP_TIMEOUT_MS), 0);
}

#define VARIANT_TESTS(i)                                                                     \
    cmocka_unit_test_prestate_setup_teardown(test_calls, variant_setup, variant_teardown,     \
                                             &cases[i]),                                     \
    cmocka_unit_test_prestate_setup_teardown(test_bad_input, variant_setup, variant_teardown, \
                                             &cases[i]),                                     \
    cmocka_unit_test_prestate(test_upstream_down, &cases[i]),                                \
    cmocka_unit_test_prestate(test_upstream_timeout, &cases[i]),                             \
    cmocka_unit_test_prestate(test_upstream_faults, &cases[i]),                              \
    cmocka_unit_test_prestate_setup_teardown(test_throughput_at_ceiling, variant_setup,      \
                                             variant_teardown, &cases[i]),                   \
    cmocka_unit_test_prestate_setup_teardown(test_loadgen_buckets, variant_setup,            \
                                             variant_teardown, &cases[i]),                   \
    cmocka_unit_test_prestate(test_stop_lets_call_finish, &cases[i]),                        \
    cmocka_unit_test_prestate(test_stop_after_client_left, &cases[i])

int main(void)
{
    harness_filter_from_env();
    grpc_init();
    const struct CMUnitTest sync_tests[] = {VARIANT_TESTS(SYNC)};
    const struct CMUnitTest async_tests[] = {VARIANT_TESTS(ASYNC)};
    int failed = 0;
    failed += cmocka_run_group_tests_name("grpc-sync", sync_tests, variant_group_setup, variant_group_teardown);
    failed += cmocka_run_group_tests_name("grpc-async", async_tests, variant_group_setup, variant_group_teardown);
    grpc_shutdown();
    return failed == 0 ? 0 : 1;
}
