/* The server contract, asserted against real processes on 127.0.0.1: a
 * real slowapi upstream, each variant, and the real loadgen. */
#include <errno.h>
#include <math.h>
#include <poll.h>
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
#include "variant_case.h"
#include "loadgen_run.h"

#define STOP_TIMEOUT_MS 5000
#define IO_TIMEOUT_MS 10000
#define DELAY_S VARIANT_DELAY_S /* the fixture server's upstream delay */

/* Small pools, so that a short run fills them; the presets differ only in
 * their numbers. ACCEPT=reuseport gets a wider tolerance: the kernel picks
 * a worker by a hash of the connection, not by its load, so a request can
 * wait behind a busy worker while the other has a free thread (0.90-0.94
 * of the ceiling here; README, findings). */
static variant_case_t cases[] = {
    {"single-thread", "single-thread", {NULL}, 1, 0, 5, 0.15},
    {"event-loop", "event-loop", {NULL}, 0, 1, 20, 0.10},
    {"thread-per-request", "thread-per-request", {NULL}, 0, 0, 5, 0.10},
    {"threadpool-5", "threadpool", {"--threads", "5", NULL}, 5, 0, 20, 0.10},
    {"prefork-2x3", "prefork", {"--workers", "2", "--threads", "3", NULL}, 6, 0, 20, 0.10},
    {"prefork-2x3-reuseport", "prefork",
     {"--workers", "2", "--threads", "3", "--accept", "reuseport", NULL}, 6, 0, 40, 0.15},
    {"event-loop-2", "event-loop", {"--workers", "2", "--accept", "reuseport", NULL}, 0, 1, 20,
     0.10},
    {"event-loop-master-1", "event-loop", {"--master", "--workers", "1", NULL}, 0, 1, 20, 0.10},
    {"event-loop-master-2", "event-loop",
     {"--master", "--workers", "2", "--accept", "shared", NULL}, 0, 1, 20, 0.10},
    {"coroutine-1x50", "coroutine", {"--connections", "50", NULL}, 50, 1, 20, 0.10},
    /* 2 x 5 coroutines at c=20: half the clients wait in the listen queue. */
    {"coroutine-2x5", "coroutine",
     {"--workers", "2", "--connections", "5", "--accept", "shared", NULL}, 10, 1, 20, 0.10},
};
enum { SINGLE_THREAD, EVENT_LOOP, THREAD_PER_REQUEST, THREADPOOL, PREFORK, PREFORK_REUSEPORT,
       EVENT_LOOP_2, EVENT_LOOP_MASTER_1, EVENT_LOOP_MASTER_2, COROUTINE, COROUTINE_2X5 };

static void test_routes(void **state)
{
    variant_fixture_t *f = *state;
    int port = f->server.port;
    char body[2048], want[128];

    assert_int_equal(http_get(port, "/healthz", body, sizeof body, IO_TIMEOUT_MS), 200);
    snprintf(want, sizeof want, "\"variant\":\"%s\"", f->vc->variant);
    assert_non_null(strstr(body, want));
    snprintf(want, sizeof want, "\"capacity\":%d", f->vc->capacity);
    assert_non_null(strstr(body, want));

    double t0 = now_ms();
    assert_int_equal(http_get(port, "/io", body, sizeof body, IO_TIMEOUT_MS), 200);
    double took_ms = now_ms() - t0;
    assert_non_null(strstr(body, "\"calls\":10,\"ok\":10"));
    /* Ten calls of 100 ms made concurrently: one delay, not ten. */
    assert_true(took_ms >= DELAY_S * 1000);
    assert_true(took_ms < DELAY_S * 1000 * 3);

    assert_int_equal(http_get(port, "/cpu", body, sizeof body, IO_TIMEOUT_MS), 200);
    assert_non_null(strstr(body, "\"iterations\":1000"));
    assert_int_equal(http_get(port, "/nope", body, sizeof body, IO_TIMEOUT_MS), 404);
    assert_int_equal(http_get(port, "/io?x=1", body, sizeof body, IO_TIMEOUT_MS), 200);
    const char post[] = "POST /io HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(http_raw(port, post, sizeof post - 1, body, sizeof body, IO_TIMEOUT_MS), 405);
}

static void test_bad_input(void **state)
{
    variant_fixture_t *f = *state;
    int port = f->server.port;
    char resp[4096];

    /* Malformed: 400, then the server closes the connection. */
    int fd = tcp_connect(port);
    assert_true(fd >= 0);
    const char garbage[] = "NOT HTTP AT ALL\r\n\r\n";
    assert_int_equal(send(fd, garbage, sizeof garbage - 1, MSG_NOSIGNAL), sizeof garbage - 1);
    assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 400);
    assert_non_null(strstr(resp, "\"error\""));
    assert_true(peer_closed(fd, IO_TIMEOUT_MS));
    close(fd);

    /* A header block over 8 KiB: 431. */
    size_t big_len = 10000;
    char *big = malloc(big_len + 64);
    assert_non_null(big);
    int n = snprintf(big, 64, "GET /io HTTP/1.1\r\nX-Big: ");
    memset(big + n, 'a', big_len);
    memcpy(big + n + big_len, "\r\n\r\n", 5);
    assert_int_equal(http_raw(port, big, strlen(big), resp, sizeof resp, IO_TIMEOUT_MS), 431);
    free(big);

    /* A request line longer than the URL limit is part of the header block. */
    char long_url[4000];
    n = snprintf(long_url, sizeof long_url, "GET /");
    memset(long_url + n, 'u', 3000);
    snprintf(long_url + n + 3000, sizeof long_url - (size_t)n - 3000, " HTTP/1.1\r\n\r\n");
    assert_int_equal(http_raw(port, long_url, strlen(long_url), resp, sizeof resp, IO_TIMEOUT_MS),
                     431);

    /* Bad version, bad header syntax. */
    const char bad_version[] = "GET /io HTTP/9.7\r\n\r\n";
    assert_int_equal(http_raw(port, bad_version, sizeof bad_version - 1, resp, sizeof resp,
                              IO_TIMEOUT_MS), 400);
    const char bad_header[] = "GET /io HTTP/1.1\r\nNo colon here\r\n\r\n";
    assert_int_equal(http_raw(port, bad_header, sizeof bad_header - 1, resp, sizeof resp,
                              IO_TIMEOUT_MS), 400);

    /* And it still serves. */
    assert_int_equal(http_get(port, "/healthz", NULL, 0, IO_TIMEOUT_MS), 200);
    assert_int_equal(http_get(port, "/io", NULL, 0, IO_TIMEOUT_MS), 200);
}

/* Keep-alive as the model promises: kept (event loop) or closed after the
 * answer (single thread, like an HTTP/1.0 dev server). */
static void test_keep_alive(void **state)
{
    variant_fixture_t *f = *state;
    char resp[4096];
    const char get[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = tcp_connect(f->server.port);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, get, sizeof get - 1, MSG_NOSIGNAL), sizeof get - 1);
    assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 200);
    if (f->vc->keep_alive) {
        assert_non_null(strstr(resp, "Connection: keep-alive"));
        /* Two pipelined requests on the same connection, answered in order. */
        char two[256];
        int n = snprintf(two, sizeof two, "%s%s", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", get);
        assert_int_equal(send(fd, two, (size_t)n, MSG_NOSIGNAL), n);
        assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 404);
        char *second = strstr(resp + 12, "HTTP/1.1 ");
        if (second == NULL)
            assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 200);
        else
            assert_non_null(strstr(second, "200 OK"));
    } else {
        assert_non_null(strstr(resp, "Connection: close"));
        assert_true(peer_closed(fd, IO_TIMEOUT_MS));
    }
    close(fd);
}

/* Upstream down: 502, and the server goes on. */
static void test_upstream_down_502(void **state)
{
    const variant_case_t *vc = *state;
    proc_t server;
    /* Port 1 on loopback: nothing listens there, connections are refused. */
    assert_int_equal(variant_start(&server, vc, "http://127.0.0.1:1/?delay=0.1", "5"), 0);
    char body[1024];
    assert_int_equal(http_get(server.port, "/io", body, sizeof body, IO_TIMEOUT_MS), 502);
    assert_non_null(strstr(body, "\"error\":\"upstream failed\""));
    assert_int_equal(http_get(server.port, "/healthz", NULL, 0, IO_TIMEOUT_MS), 200);
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
}

/* An upstream slower than UPSTREAM_TIMEOUT: 504 after the timeout, long
 * before the upstream would have answered. From 299 ms: curl counts whole
 * milliseconds, truncating a negative microsecond difference toward zero,
 * so a timeout can fire up to 1 ms early (CI saw 299.8 ms on prefork-2x3);
 * 300-310 ms is usual. */
static void test_upstream_timeout_504(void **state)
{
    const variant_case_t *vc = *state;
    proc_t server;
    char body[1024];
    assert_int_equal(variant_start_on_slowapi(&server, vc, 3.0, "0.3"), 0);
    double t0 = now_ms();
    assert_int_equal(http_get(server.port, "/io", body, sizeof body, IO_TIMEOUT_MS), 504);
    double took_ms = now_ms() - t0;
    print_message("%s: 504 after %.1f ms\n", vc->variant, took_ms);
    assert_non_null(strstr(body, "\"error\":\"upstream timeout\""));
    assert_in_range((uintmax_t)took_ms, 299, 1999);
    assert_int_equal(http_get(server.port, "/healthz", NULL, 0, IO_TIMEOUT_MS), 200);
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
}

/* slowapi's injected faults as the server sees them: an upstream error and
 * a reset are 502, a hang 504 at UPSTREAM_TIMEOUT, and the server goes on
 * serving. Every call faults (100%), so a retry on a fresh connection
 * faults too. */
static void test_upstream_faults(void **state)
{
    const variant_case_t *vc = *state;
    static const struct {
        const char *query;
        int status;
        const char *error;
    } cases[] = {
        {"error=100", 502, "\"error\":\"upstream failed\""},
        {"reset=100", 502, "\"error\":\"upstream failed\""},
        {"hang=100", 504, "\"error\":\"upstream timeout\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char url[128], body[1024];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/?delay=0.02&%s", test_slowapi.port,
                 cases[i].query);
        proc_t server;
        assert_int_equal(variant_start(&server, vc, url, "0.3"), 0);
        int status = http_get(server.port, "/io", body, sizeof body, IO_TIMEOUT_MS);
        print_message("%s, upstream %s: %d\n", vc->variant, cases[i].query, status);
        assert_int_equal(status, cases[i].status);
        assert_non_null(strstr(body, cases[i].error));
        assert_int_equal(http_get(server.port, "/healthz", NULL, 0, IO_TIMEOUT_MS), 200);
        assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
    }
}

/* Under load the model reaches its ceiling, min(c, capacity) / delay,
 * every request is ok and none is faster than the upstream delay. */
static void test_throughput_at_ceiling(void **state)
{
    json_t *report = variant_assert_at_ceiling(*state, 0);
    json_decref(report);
}

/* slowapi's count of open connections, from its /stats; -1 on failure. */
static int slowapi_connections(void)
{
    char body[1024];
    if (http_get(test_slowapi.port, "/stats", body, sizeof body, IO_TIMEOUT_MS) != 200)
        return -1;
    const char *p = strstr(body, "\"connections\":");
    return p == NULL ? -1 : atoi(p + strlen("\"connections\":"));
}

/* Send GET /io to a server whose upstream delay is 1 s and return the
 * client socket once the fan-out's calls have reached slowapi (seen on
 * its /stats, not guessed with a sleep). */
static int io_in_flight(proc_t *server, int fanout)
{
    int before = slowapi_connections();
    assert_true(before >= 0);
    int fd = tcp_connect(server->port);
    assert_true(fd >= 0);
    const char get[] = "GET /io HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(fd, get, sizeof get - 1, MSG_NOSIGNAL), sizeof get - 1);
    double deadline = now_ms() + IO_TIMEOUT_MS;
    while (slowapi_connections() < before + fanout)
        assert_true(now_ms() < deadline);
    return fd;
}

/* SIGTERM with a request in flight: the request still gets its answer,
 * then the server exits 0. */
static void test_stop_lets_request_finish(void **state)
{
    const variant_case_t *vc = *state;
    proc_t server;
    char resp[4096];
    assert_int_equal(variant_start_on_slowapi(&server, vc, 1.0, "5"), 0);
    int fd = io_in_flight(&server, 10);
    assert_int_equal(kill(server.pid, SIGTERM), 0);
    assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 200);
    close(fd);
    assert_int_equal(proc_wait(&server, STOP_TIMEOUT_MS), 0);
}

/* SIGTERM after a client left with its fan-out still running: the server
 * drops the answer and exits 0 (under ASan: without touching freed memory). */
static void test_stop_after_client_left(void **state)
{
    const variant_case_t *vc = *state;
    proc_t server;
    assert_int_equal(variant_start_on_slowapi(&server, vc, 1.0, "5"), 0);
    int fd = io_in_flight(&server, 10);
    close(fd);
    assert_int_equal(kill(server.pid, SIGTERM), 0);
    assert_int_equal(proc_wait(&server, STOP_TIMEOUT_MS), 0);
}

/* The worker processes of a master, from /proc; returns how many (at most
 * cap), or -1. */
static int children_of(pid_t master, pid_t *pids, int cap)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)master, (int)master);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    int count = 0;
    for (char *p = buf, *end; count < cap; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        pids[count++] = (pid_t)pid;
    }
    return count;
}

static int has_setting(const variant_case_t *vc, const char *word)
{
    for (int i = 0; vc->settings[i] != NULL; i++)
        if (strcmp(vc->settings[i], word) == 0)
            return 1;
    return 0;
}

/* The pid in a /healthz answer, or -1. */
static long healthz_pid(int port)
{
    char body[2048];
    if (http_get(port, "/healthz", body, sizeof body, IO_TIMEOUT_MS) != 200)
        return -1;
    const char *p = strstr(body, "\"pid\":");
    return p == NULL ? -1 : atol(p + strlen("\"pid\":"));
}

/* prefork: kill -9 one worker with every thread busy. Exactly the requests
 * on that worker fail; the master starts a new worker, which serves. The
 * prefork cases run 2 workers: with all capacity requests in flight, each
 * worker holds capacity / 2 of them (it has no more threads). With
 * ACCEPT=reuseport the kernel picks the worker by a hash, so a request
 * can wait behind a busy worker while the other idles: that case kills an
 * idle worker. */
static void test_worker_killed(void **state)
{
    const variant_case_t *vc = *state;
    const int workers = 2, in_flight = vc->capacity;
    const int shared = !has_setting(vc, "reuseport");
    proc_t server;
    char resp[4096];
    int fds[16];
    assert_true(in_flight <= 16);
    assert_int_equal(variant_start_on_slowapi(&server, vc, 1.0, "5"), 0);
    pid_t before[4], after[4];
    assert_int_equal(children_of(server.pid, before, 4), workers);

    if (shared) {
        for (int i = 0; i < in_flight; i++)
            fds[i] = io_in_flight(&server, 10);
    }
    assert_int_equal(kill(before[0], SIGKILL), 0);
    if (shared) {
        int ok = 0, failed = 0;
        for (int i = 0; i < in_flight; i++) {
            int status = http_read_response(fds[i], resp, sizeof resp, IO_TIMEOUT_MS);
            assert_true(status == 200 || status == -ECONNRESET || status == -EPROTO);
            if (status == 200)
                ok++;
            else
                failed++;
            close(fds[i]);
        }
        print_message("kill -9 of worker %d: %d ok, %d failed\n", (int)before[0], ok, failed);
        assert_int_equal(failed, in_flight / workers);
        assert_int_equal(ok, in_flight - in_flight / workers);
    }

    /* The master replaces it (watched in /proc, bounded). */
    double deadline = now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        int n = children_of(server.pid, after, 4);
        if (n == workers && after[0] != before[0] && after[1] != before[0])
            break;
        assert_true(now_ms() < deadline);
    }
    pid_t fresh = after[0] == before[1] ? after[1] : after[0];
    if (!shared) {
        /* The new worker's socket takes its share: new connections, new
         * hashes, until one lands there (bounded). */
        int tries = 0;
        while (healthz_pid(server.port) != fresh)
            assert_true(++tries < 1000);
    }
    /* Every thread of both workers serves: capacity requests at once take
     * one delay, not two (which they would with one worker). */
    const char get[] = "GET /io HTTP/1.1\r\nHost: x\r\n\r\n";
    double t0 = now_ms();
    for (int i = 0; i < in_flight; i++) {
        fds[i] = tcp_connect(server.port);
        assert_true(fds[i] >= 0);
        assert_int_equal(send(fds[i], get, sizeof get - 1, MSG_NOSIGNAL), sizeof get - 1);
    }
    for (int i = 0; i < in_flight; i++) {
        assert_int_equal(http_read_response(fds[i], resp, sizeof resp, IO_TIMEOUT_MS), 200);
        close(fds[i]);
    }
    if (shared)
        assert_true(now_ms() - t0 < 1900);
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
}

/* The value of a numeric setting such as --workers, or dflt. */
static int setting_int(const variant_case_t *vc, const char *flag, int dflt)
{
    for (int i = 0; vc->settings[i] != NULL; i++)
        if (strcmp(vc->settings[i], flag) == 0 && vc->settings[i + 1] != NULL)
            return atoi(vc->settings[i + 1]);
    return dflt;
}

/* GET /healthz on the kept-alive connection fd: the pid of the worker
 * that accepted it, or -1. */
static long conn_worker_pid(int fd)
{
    const char get[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    char resp[4096];
    if (send(fd, get, sizeof get - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof get - 1) ||
        http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS) != 200)
        return -1;
    const char *p = strstr(resp, "\"pid\":");
    return p == NULL ? -1 : atol(p + strlen("\"pid\":"));
}

/* Wait (bounded) until /proc says pid is stopped: kill() returns before
 * the target has taken the signal. */
static void wait_stopped(pid_t pid)
{
    char path[64], stat[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    double deadline = now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        size_t n = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[n] = '\0';
        const char *state = strrchr(stat, ')'); /* "pid (comm) S ..." */
        if (state != NULL && state[1] == ' ' && state[2] == 'T')
            return;
        assert_true(now_ms() < deadline);
    }
}

/* Open per_worker kept-alive connections on each worker, and record the
 * worker of each (its pid, from /healthz on it). ACCEPT=shared: whichever
 * loop wakes first accepts, which here is nearly always the same one, so
 * the other workers are stopped (SIGSTOP) while one worker's share is
 * opened. reuseport: the kernel picks a worker by the connection's hash,
 * so connections are opened until each worker holds its share. Returns
 * how many were opened. */
static int open_on_each_worker(int port, int shared, const pid_t *workers, int nworkers,
                               int per_worker, int *fds, long *conn_pid)
{
    int n = 0;
    if (shared) {
        for (int w = 0; w < nworkers; w++) {
            for (int o = 0; o < nworkers; o++)
                if (o != w) {
                    assert_int_equal(kill(workers[o], SIGSTOP), 0);
                    wait_stopped(workers[o]);
                }
            for (int i = 0; i < per_worker; i++, n++) {
                fds[n] = tcp_connect(port);
                assert_true(fds[n] >= 0);
                conn_pid[n] = conn_worker_pid(fds[n]);
                assert_int_equal(conn_pid[n], workers[w]);
            }
            for (int o = 0; o < nworkers; o++)
                if (o != w)
                    assert_int_equal(kill(workers[o], SIGCONT), 0);
        }
        return n;
    }
    int held[8] = {0}, tries = 0;
    assert_true(nworkers <= 8);
    while (n < nworkers * per_worker) {
        assert_true(++tries < 1000);
        int fd = tcp_connect(port);
        assert_true(fd >= 0);
        long pid = conn_worker_pid(fd);
        int w = 0;
        while (w < nworkers && workers[w] != pid)
            w++;
        assert_true(w < nworkers);
        if (held[w] == per_worker) {
            close(fd);
            continue;
        }
        held[w]++;
        fds[n] = fd;
        conn_pid[n++] = pid;
    }
    return n;
}

/* An event-loop or coroutine worker holds many requests at once, so a
 * kill -9 takes all of them: with requests in flight on every worker,
 * exactly those on connections the killed worker accepted fail (each
 * connection's worker is known from /healthz on it), the others get 200.
 * Then the master starts a new worker, and every worker, the new one
 * included, serves. */
static void test_loop_worker_killed(void **state)
{
    const variant_case_t *vc = *state;
    const int workers = setting_int(vc, "--workers", 1), per_worker = 3;
    const int shared = !has_setting(vc, "reuseport");
    const char get[] = "GET /io HTTP/1.1\r\nHost: x\r\n\r\n";
    proc_t server;
    char resp[4096];
    int fds[16];
    long conn_pid[16];
    pid_t before[4], after[4];
    assert_true(workers <= 4 && workers * per_worker <= 16);
    assert_int_equal(variant_start_on_slowapi(&server, vc, 1.0, "5"), 0);
    assert_int_equal(children_of(server.pid, before, 4), workers);

    int n = open_on_each_worker(server.port, shared, before, workers, per_worker, fds, conn_pid);
    int upstream_before = slowapi_connections();
    assert_true(upstream_before >= 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(send(fds[i], get, sizeof get - 1, MSG_NOSIGNAL), sizeof get - 1);
    double deadline = now_ms() + IO_TIMEOUT_MS;
    while (slowapi_connections() < upstream_before + n * 10)
        assert_true(now_ms() < deadline);

    assert_int_equal(kill(before[0], SIGKILL), 0);
    int ok = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        int status = http_read_response(fds[i], resp, sizeof resp, IO_TIMEOUT_MS);
        if (conn_pid[i] == before[0]) {
            assert_true(status == -ECONNRESET || status == -EPROTO);
            failed++;
        } else {
            assert_int_equal(status, 200);
            ok++;
        }
        close(fds[i]);
    }
    print_message("kill -9 of worker %d: %d ok, %d failed\n", (int)before[0], ok, failed);
    assert_int_equal(failed, per_worker);
    assert_int_equal(ok, n - per_worker);

    /* The master replaces it (watched in /proc, bounded). */
    deadline = now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        int count = children_of(server.pid, after, 4), gone = 1;
        for (int i = 0; i < count; i++)
            gone = gone && after[i] != before[0];
        if (count == workers && gone)
            break;
        assert_true(now_ms() < deadline);
    }
    n = open_on_each_worker(server.port, shared, after, workers, per_worker, fds, conn_pid);
    for (int i = 0; i < n; i++)
        assert_int_equal(send(fds[i], get, sizeof get - 1, MSG_NOSIGNAL), sizeof get - 1);
    for (int i = 0; i < n; i++) {
        assert_int_equal(http_read_response(fds[i], resp, sizeof resp, IO_TIMEOUT_MS), 200);
        close(fds[i]);
    }
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
}

/* The coroutine limit: with CONNECTIONS=3, six clients send /io at once.
 * Three are served; three wait in the listen queue, are accepted as the
 * first three end (their answers close the connection because others
 * wait) and are served then: all six get 200, the last three after about
 * two delays. */
static void test_coroutine_limit(void **state)
{
    (void)state;
    enum { LIMIT = 3, CLIENTS = 6 };
    const double delay_ms = 500;
    const variant_case_t vc = {"coroutine-1x3", "coroutine", {"--connections", "3", NULL},
                               LIMIT, 1, 0, 0};
    const char get[] = "GET /io HTTP/1.1\r\nHost: x\r\n\r\n";
    proc_t server;
    char resp[4096];
    int fds[CLIENTS], closed[CLIENTS];
    double took_ms[CLIENTS];
    assert_int_equal(variant_start_on_slowapi(&server, &vc, delay_ms / 1000, "5"), 0);
    double t0 = now_ms();
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = tcp_connect(server.port);
        assert_true(fds[i] >= 0);
        assert_int_equal(send(fds[i], get, sizeof get - 1, MSG_NOSIGNAL), sizeof get - 1);
    }
    /* Each answer's arrival, in whatever order they come. */
    for (int answered = 0; answered < CLIENTS; answered++) {
        struct pollfd pfd[CLIENTS];
        for (int i = 0; i < CLIENTS; i++)
            pfd[i] = (struct pollfd){.fd = fds[i] < 0 ? -1 : fds[i], .events = POLLIN};
        assert_true(poll(pfd, CLIENTS, IO_TIMEOUT_MS) > 0);
        int i = 0;
        while (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
            i++;
        assert_int_equal(http_read_response(fds[i], resp, sizeof resp, IO_TIMEOUT_MS), 200);
        took_ms[answered] = now_ms() - t0;
        closed[answered] = strstr(resp, "Connection: close") != NULL;
        close(fds[i]);
        fds[i] = -1;
    }
    print_message("limit %d, %d clients at once, delay %.0f ms: answers after", LIMIT, CLIENTS,
                  delay_ms);
    for (int i = 0; i < CLIENTS; i++)
        print_message(" %.0f%s", took_ms[i], closed[i] ? " (closed)" : "");
    print_message(" ms\n");
    for (int i = 0; i < CLIENTS; i++) {
        int waited = i >= LIMIT;
        assert_true(took_ms[i] >= delay_ms * (1 + waited));
        assert_true(took_ms[i] < delay_ms * (2 + waited));
        /* Served while others waited: closed to give its place. */
        assert_int_equal(closed[i], !waited);
    }
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
}

/* A number field of a flat JSON object ("name":N), or -1. */
static long json_number(const char *json, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *p = strstr(json, key);
    return p == NULL ? -1 : strtol(p + strlen(key), NULL, 10);
}

/* The upstream restarts between two requests: the connections the server
 * kept alive to it are dead, and the next request must still be answered
 * with 200 (a closed idle connection is dropped, or the call sent again on
 * a new one), over HTTP/1.1 and h2c alike. */
static void upstream_restart_case(const variant_case_t *base, const char *http)
{
    variant_case_t vc = *base;
    variant_add_setting(&vc, "--upstream-http", http);
    proc_t up, server;
    const char *first[] = {bin_path("slowapi"), "--host", "127.0.0.1", "--port", "0", NULL};
    assert_int_equal(proc_start(&up, first, NULL, STOP_TIMEOUT_MS), 0);
    char url[128], port[16], body[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/?delay=0.05", up.port);
    snprintf(port, sizeof port, "%d", up.port);
    assert_int_equal(variant_start(&server, &vc, url, "5"), 0);
    assert_int_equal(http_get(server.port, "/io", body, sizeof body, IO_TIMEOUT_MS), 200);
    assert_int_equal(proc_stop(&up, STOP_TIMEOUT_MS), 0);
    const char *again[] = {bin_path("slowapi"), "--host", "127.0.0.1", "--port", port, NULL};
    assert_int_equal(proc_start(&up, again, NULL, STOP_TIMEOUT_MS), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(http_get(server.port, "/io", body, sizeof body, IO_TIMEOUT_MS), 200);
        assert_non_null(strstr(body, "\"ok\":10"));
    }
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
    assert_int_equal(proc_stop(&up, STOP_TIMEOUT_MS), 0);
}

static void test_upstream_restarted(void **state)
{
    upstream_restart_case(*state, "1.1");
    upstream_restart_case(*state, "2");
}

/* SLOW_API_PORTS=2 against slowapi --ports 2 --workers 2, one worker a
 * port, so that each port's /stats counts the calls that came to it: every
 * fan-out puts 5 of its 10 calls on each port (one client's ephemeral
 * ports are per destination port: run.sh's way past ~28,000 connections),
 * over HTTP/1.1 and h2c. */
static void upstream_ports_case(const variant_case_t *base, const char *http)
{
    enum { REQUESTS = 3 };
    variant_case_t vc = *base;
    variant_add_setting(&vc, "--upstream-http", http);
    variant_add_setting(&vc, "--slow-api-ports", "2");
    proc_t up, server;
    const char *argv[] = {bin_path("slowapi"), "--host", "127.0.0.1", "--port", "0",
                          "--ports", "2", "--workers", "2", NULL};
    const char *env[] = {"LOG_LEVEL=error", NULL};
    assert_int_equal(proc_start(&up, argv, env, STOP_TIMEOUT_MS), 0);
    char url[128], body[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/?delay=0.05", up.port);
    assert_int_equal(variant_start(&server, &vc, url, "5"), 0);
    for (int i = 0; i < REQUESTS; i++) {
        assert_int_equal(http_get(server.port, "/io", body, sizeof body, IO_TIMEOUT_MS), 200);
        assert_non_null(strstr(body, "\"ok\":10"));
    }
    assert_int_equal(http_get(server.port, "/healthz", body, sizeof body, IO_TIMEOUT_MS), 200);
    assert_non_null(strstr(body, "\"slow_api_ports\":2"));
    for (int p = 0; p < 2; p++) {
        assert_int_equal(http_get(up.port + p, "/stats", body, sizeof body, IO_TIMEOUT_MS), 200);
        print_message("%s over %s: port %d answered %ld calls\n", vc.variant, http, up.port + p,
                      json_number(body, "answered"));
        assert_int_equal(json_number(body, "answered"), REQUESTS * 5);
        assert_int_equal(json_number(body, "calls_total"), REQUESTS * 10);
    }
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
    assert_int_equal(proc_stop(&up, STOP_TIMEOUT_MS), 0);
}

static void test_upstream_ports(void **state)
{
    upstream_ports_case(*state, "1.1");
    upstream_ports_case(*state, "2");
}

/* UPSTREAM_HTTP=2: three /io at once, each 200; the calls of a fan-out
 * went as streams of one h2c connection, so slowapi's peak of open
 * connections grew by at most one per fan-out (HTTP/1.1: FANOUT each).
 * The base is what was open at the reset: ours, and perhaps a previous
 * test's that slowapi has not yet seen close. */
static void test_upstream_http2(void **state)
{
    enum { REQUESTS = 3 };
    variant_case_t vc = *(const variant_case_t *)*state;
    variant_add_setting(&vc, "--upstream-http", "2");
    char body[1024];
    assert_int_equal(http_get(test_slowapi.port, "/stats?reset=1", body, sizeof body, IO_TIMEOUT_MS),
                     200);
    long base = json_number(body, "connections");
    assert_true(base >= 1);
    proc_t server;
    assert_int_equal(variant_start_on_slowapi(&server, &vc, 0.3, "5"), 0);
    const char get[] = "GET /io HTTP/1.1\r\nHost: x\r\n\r\n";
    int fds[REQUESTS];
    assert_int_equal(http_send_many(server.port, get, sizeof get - 1, fds, REQUESTS), 0);
    char resp[4096];
    for (int i = 0; i < REQUESTS; i++) {
        assert_int_equal(http_read_response(fds[i], resp, sizeof resp, IO_TIMEOUT_MS), 200);
        assert_non_null(strstr(resp, "\"ok\":10"));
        close(fds[i]);
    }
    assert_int_equal(http_get(server.port, "/healthz", body, sizeof body, IO_TIMEOUT_MS), 200);
    assert_non_null(strstr(body, "\"upstream_http\":\"2\""));
    assert_int_equal(http_get(test_slowapi.port, "/stats", body, sizeof body, IO_TIMEOUT_MS), 200);
    long answered = json_number(body, "answered"), peak = json_number(body, "peak_connections");
    print_message("%s over h2c: slowapi answered %ld calls, peak %ld connections (base %ld)\n",
                  vc.variant, answered, peak, base);
    assert_int_equal(answered, REQUESTS * 10);
    assert_in_range(peak, 1, base + REQUESTS);
    assert_int_equal(proc_stop(&server, STOP_TIMEOUT_MS), 0);
}

#define VARIANT_TESTS(i)                                                                   \
    cmocka_unit_test_prestate_setup_teardown(test_routes, variant_setup, variant_teardown, \
                                             &cases[i]),                                   \
    cmocka_unit_test_prestate_setup_teardown(test_bad_input, variant_setup,               \
                                             variant_teardown, &cases[i]),                \
    cmocka_unit_test_prestate_setup_teardown(test_keep_alive, variant_setup,              \
                                             variant_teardown, &cases[i]),                \
    cmocka_unit_test_prestate(test_upstream_down_502, &cases[i]),                          \
    cmocka_unit_test_prestate(test_upstream_timeout_504, &cases[i]),                       \
    cmocka_unit_test_prestate(test_upstream_faults, &cases[i]),                            \
    cmocka_unit_test_prestate(test_stop_lets_request_finish, &cases[i]),                   \
    cmocka_unit_test_prestate(test_stop_after_client_left, &cases[i]),                     \
    cmocka_unit_test_prestate_setup_teardown(test_throughput_at_ceiling, variant_setup,   \
                                             variant_teardown, &cases[i])

int main(void)
{
    harness_filter_from_env();
    const struct CMUnitTest single_thread[] = {VARIANT_TESTS(SINGLE_THREAD)};
    const struct CMUnitTest event_loop[] = {
        VARIANT_TESTS(EVENT_LOOP),
        cmocka_unit_test_prestate(test_upstream_http2, &cases[EVENT_LOOP]),
        cmocka_unit_test_prestate(test_upstream_restarted, &cases[EVENT_LOOP]),
        cmocka_unit_test_prestate(test_upstream_ports, &cases[EVENT_LOOP]),
    };
    const struct CMUnitTest thread_per_request[] = {VARIANT_TESTS(THREAD_PER_REQUEST)};
    const struct CMUnitTest threadpool[] = {
        VARIANT_TESTS(THREADPOOL),
        cmocka_unit_test_prestate(test_upstream_http2, &cases[THREADPOOL]),
        cmocka_unit_test_prestate(test_upstream_restarted, &cases[THREADPOOL]),
        cmocka_unit_test_prestate(test_upstream_ports, &cases[THREADPOOL]),
    };
    const struct CMUnitTest prefork[] = {
        VARIANT_TESTS(PREFORK),
        cmocka_unit_test_prestate(test_worker_killed, &cases[PREFORK]),
    };
    const struct CMUnitTest prefork_reuseport[] = {
        VARIANT_TESTS(PREFORK_REUSEPORT),
        cmocka_unit_test_prestate(test_worker_killed, &cases[PREFORK_REUSEPORT]),
    };
    const struct CMUnitTest event_loop_2[] = {
        VARIANT_TESTS(EVENT_LOOP_2),
        cmocka_unit_test_prestate(test_loop_worker_killed, &cases[EVENT_LOOP_2]),
    };
    const struct CMUnitTest event_loop_master_1[] = {
        VARIANT_TESTS(EVENT_LOOP_MASTER_1),
        cmocka_unit_test_prestate(test_loop_worker_killed, &cases[EVENT_LOOP_MASTER_1]),
    };
    const struct CMUnitTest event_loop_master_2[] = {
        VARIANT_TESTS(EVENT_LOOP_MASTER_2),
        cmocka_unit_test_prestate(test_loop_worker_killed, &cases[EVENT_LOOP_MASTER_2]),
    };
    const struct CMUnitTest coroutine[] = {
        VARIANT_TESTS(COROUTINE),
        cmocka_unit_test_prestate(test_upstream_http2, &cases[COROUTINE]),
        cmocka_unit_test_prestate(test_upstream_restarted, &cases[COROUTINE]),
        cmocka_unit_test_prestate(test_upstream_ports, &cases[COROUTINE]),
        cmocka_unit_test(test_coroutine_limit),
    };
    const struct CMUnitTest coroutine_2x5[] = {
        VARIANT_TESTS(COROUTINE_2X5),
        cmocka_unit_test_prestate(test_loop_worker_killed, &cases[COROUTINE_2X5]),
    };
    int failed = 0;
#define RUN_GROUP(name, tests) \
    failed += cmocka_run_group_tests_name(name, tests, variant_group_setup, variant_group_teardown)
    RUN_GROUP("single-thread", single_thread);
    RUN_GROUP("event-loop", event_loop);
    RUN_GROUP("thread-per-request", thread_per_request);
    RUN_GROUP("threadpool", threadpool);
    RUN_GROUP("prefork", prefork);
    RUN_GROUP("prefork (ACCEPT=reuseport)", prefork_reuseport);
    RUN_GROUP("event-loop, 2 workers (ACCEPT=reuseport)", event_loop_2);
    RUN_GROUP("event-loop, master and 1 worker", event_loop_master_1);
    RUN_GROUP("event-loop, master and 2 workers (ACCEPT=shared)", event_loop_master_2);
    RUN_GROUP("coroutine", coroutine);
    RUN_GROUP("coroutine, master and 2 workers x 5 coroutines (ACCEPT=shared)", coroutine_2x5);
    return failed == 0 ? 0 : 1;
}
