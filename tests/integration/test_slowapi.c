/* slowapi's contract, asserted against a real process on 127.0.0.1 (port 0,
 * readiness pipe), over HTTP/1.1 and h2c (libcurl, and raw frames for what
 * libcurl will not send). Waiting is always on a socket or a pid with a
 * timeout, never a sleep. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "cpu_model.h"
#include "harness.h"

#define START_TIMEOUT_MS 5000
#define STOP_TIMEOUT_MS 2000
#define IO_TIMEOUT_MS 5000
#define CONCURRENT_CLIENTS 200
#define NEVER_EARLY_CLIENTS 50
#define DELAY_ERROR "{\"error\":\"delay must be a number between 0 and 60\",\"status\":400}"

extern char **environ;

static proc_t slowapi;

static int start_slowapi(proc_t *p)
{
    const char *argv[] = {bin_path("slowapi"), "--host", "127.0.0.1", "--port", "0", NULL};
    const char *env[] = {"LOG_LEVEL=warn", NULL};
    return proc_start(p, argv, env, START_TIMEOUT_MS);
}

static int group_setup(void **state)
{
    (void)state;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    int rc = start_slowapi(&slowapi);
    if (rc != 0)
        fprintf(stderr, "cannot start %s: %s\n", bin_path("slowapi"), strerror(-rc));
    return rc == 0 ? 0 : -1;
}

/* The shared server must still stop cleanly after everything it went
 * through. */
static int group_teardown(void **state)
{
    (void)state;
    int rc = proc_stop(&slowapi, STOP_TIMEOUT_MS);
    curl_global_cleanup();
    if (rc != 0)
        fprintf(stderr, "slowapi stopped with %d, want 0\n", rc);
    return rc == 0 ? 0 : -1;
}

static void send_text(int fd, const char *text, size_t len)
{
    assert_int_equal(send(fd, text, len, MSG_NOSIGNAL), (ssize_t)len);
}

static const char *body_of(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    return b != NULL ? b + 4 : "";
}

/* GET /healthz's body: ok, and the machine's CPU model as /proc/cpuinfo
 * names it (the reports say on which CPU slowapi ran). */
static const char *healthz_body(void)
{
    static char body[256];
    if (body[0] == '\0') {
        char model[128];
        (void)cpu_model(model, sizeof model);
        snprintf(body, sizeof body, "{\"status\":\"ok\",\"cpu_model\":\"%s\"}", model);
    }
    return body;
}

static void test_healthz(void **state)
{
    (void)state;
    char body[256];
    assert_int_equal(http_get(slowapi.port, "/healthz", body, sizeof body, IO_TIMEOUT_MS), 200);
    assert_string_equal(body, healthz_body());
}

static void test_delay_timing(void **state)
{
    (void)state;
    char body[256];
    double t0 = now_ms();
    assert_int_equal(http_get(slowapi.port, "/?delay=0.1", body, sizeof body, IO_TIMEOUT_MS),
                     200);
    double took_ms = now_ms() - t0;
    if (took_ms < 100 || took_ms >= 300)
        print_message("delay=0.1 took %.1f ms\n", took_ms);
    assert_true(took_ms >= 100); /* never early */
    assert_true(took_ms < 300);
    assert_string_equal(body, "{\"delay_s\":0.1}");

    /* delay=0 answers at once. */
    assert_int_equal(http_get(slowapi.port, "/?delay=0", body, sizeof body, IO_TIMEOUT_MS), 200);
    assert_string_equal(body, "{\"delay_s\":0}");
}

static void test_default_delay_is_one_second(void **state)
{
    (void)state;
    char body[256];
    double t0 = now_ms();
    assert_int_equal(http_get(slowapi.port, "/", body, sizeof body, IO_TIMEOUT_MS), 200);
    double took_ms = now_ms() - t0;
    assert_true(took_ms >= 1000);
    assert_true(took_ms < 1500);
    assert_string_equal(body, "{\"delay_s\":1}");
}

/* 200 clients each wait 0.2 s at the same time: a server that blocked per
 * request would need 40 s; one that does not needs about 0.2 s. */
static void test_concurrent_delays(void **state)
{
    (void)state;
    static const char req[] = "GET /?delay=0.2 HTTP/1.1\r\nHost: x\r\n\r\n";
    int fds[CONCURRENT_CLIENTS];
    char resp[1024];
    double t0 = now_ms();
    for (int i = 0; i < CONCURRENT_CLIENTS; i++) {
        fds[i] = tcp_connect(slowapi.port);
        assert_true(fds[i] >= 0);
        send_text(fds[i], req, sizeof req - 1);
    }
    for (int i = 0; i < CONCURRENT_CLIENTS; i++) {
        assert_int_equal(http_read_response(fds[i], resp, sizeof resp, IO_TIMEOUT_MS), 200);
        assert_string_equal(body_of(resp), "{\"delay_s\":0.2}");
        close(fds[i]);
    }
    double took_ms = now_ms() - t0;
    print_message("%d concurrent delay=0.2 requests: %.1f ms\n", CONCURRENT_CLIENTS, took_ms);
    assert_true(took_ms >= 200);
    assert_true(took_ms < 1000);
}

/* GET /stats (optionally ?reset=1) from the slowapi on port, parsed; the
 * caller json_decref()s. */
static json_t *get_stats_at(int port, const char *path)
{
    char body[512];
    assert_int_equal(http_get(port, path, body, sizeof body, IO_TIMEOUT_MS), 200);
    json_error_t err;
    json_t *stats = json_loads(body, 0, &err);
    if (stats == NULL)
        print_message("GET %s: not JSON (%s): %s\n", path, err.text, body);
    assert_non_null(stats);
    return stats;
}

/* The same from the shared slowapi. */
static json_t *get_stats(const char *path) { return get_stats_at(slowapi.port, path); }

/* A non-negative integer member at a dotted path of one or two names. */
static long long stats_int(json_t *stats, const char *name, const char *sub)
{
    json_t *v = json_object_get(stats, name);
    if (sub != NULL)
        v = json_object_get(v, sub);
    if (!json_is_integer(v))
        print_message("stats: %s%s%s is not an integer\n", name, sub ? "." : "", sub ? sub : "");
    assert_true(json_is_integer(v));
    assert_true(json_integer_value(v) >= 0);
    return json_integer_value(v);
}

/* NEVER_EARLY_CLIENTS requests of delay=0.05 at once, each timed from its
 * send to the moment its socket turns readable (poll over all of them, so a
 * response read late cannot hide one that came early): every one >= 50 ms.
 * slowapi's /stats then counts exactly those answers, with a lateness. */
static void test_never_early_and_stats(void **state)
{
    (void)state;
    static const char req[] = "GET /?delay=0.05 HTTP/1.1\r\nHost: x\r\n\r\n";
    json_decref(get_stats("/stats?reset=1"));

    struct pollfd pfds[NEVER_EARLY_CLIENTS];
    double sent_ms[NEVER_EARLY_CLIENTS], took_ms[NEVER_EARLY_CLIENTS];
    for (int i = 0; i < NEVER_EARLY_CLIENTS; i++) {
        pfds[i].fd = tcp_connect(slowapi.port);
        assert_true(pfds[i].fd >= 0);
        pfds[i].events = POLLIN;
    }
    for (int i = 0; i < NEVER_EARLY_CLIENTS; i++) {
        sent_ms[i] = now_ms();
        send_text(pfds[i].fd, req, sizeof req - 1);
        took_ms[i] = -1;
    }
    int pending = NEVER_EARLY_CLIENTS;
    double deadline_ms = now_ms() + IO_TIMEOUT_MS;
    while (pending > 0) {
        int left_ms = (int)(deadline_ms - now_ms());
        assert_true(left_ms > 0);
        int n = poll(pfds, NEVER_EARLY_CLIENTS, left_ms);
        assert_true(n > 0);
        double t_ms = now_ms();
        for (int i = 0; i < NEVER_EARLY_CLIENTS; i++) {
            if (pfds[i].fd < 0 || pfds[i].revents == 0)
                continue;
            took_ms[i] = t_ms - sent_ms[i];
            pfds[i].fd = -pfds[i].fd - 1; /* poll skips negative descriptors */
            pending--;
        }
    }
    char resp[1024];
    double min_ms = 1e9, max_ms = 0;
    for (int i = 0; i < NEVER_EARLY_CLIENTS; i++) {
        int fd = -pfds[i].fd - 1;
        assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 200);
        assert_string_equal(body_of(resp), "{\"delay_s\":0.05}");
        close(fd);
        if (took_ms[i] < 50)
            print_message("request %d answered after %.3f ms (< 50)\n", i, took_ms[i]);
        assert_true(took_ms[i] >= 50);
        min_ms = took_ms[i] < min_ms ? took_ms[i] : min_ms;
        max_ms = took_ms[i] > max_ms ? took_ms[i] : max_ms;
    }
    print_message("%d x delay=0.05: %.3f .. %.3f ms\n", NEVER_EARLY_CLIENTS, min_ms, max_ms);

    json_t *stats = get_stats("/stats");
    assert_int_equal(stats_int(stats, "answered", NULL), NEVER_EARLY_CLIENTS);
    long long p50 = stats_int(stats, "lateness_us", "p50");
    long long p99 = stats_int(stats, "lateness_us", "p99");
    long long p999 = stats_int(stats, "lateness_us", "p999");
    long long max = stats_int(stats, "lateness_us", "max");
    print_message("server-side lateness: p50 %lld us, p99 %lld us, max %lld us\n", p50, p99, max);
    assert_true(p50 <= p99 && p99 <= p999 && p999 <= max);
    /* The client saw at most max_ms - 50 of lateness, and the server's
     * share is part of it (a generous bound: sanitizers, a busy machine). */
    assert_true(max <= (long long)((max_ms - 50) * 1000) + 1000);
    assert_true(stats_int(stats, "connections", NULL) >= 1); /* this GET's */
    assert_true(stats_int(stats, "peak_connections", NULL) >= NEVER_EARLY_CLIENTS);
    json_decref(stats);
}

/* /stats answers at once, counts only delayed answers, and ?reset=1 starts
 * a new window after answering with the old one. */
static void test_stats_reset(void **state)
{
    (void)state;
    char body[256];
    json_decref(get_stats("/stats?reset=1"));
    assert_int_equal(http_get(slowapi.port, "/?delay=0.01", body, sizeof body, IO_TIMEOUT_MS),
                     200);
    assert_int_equal(http_get(slowapi.port, "/?delay=0", body, sizeof body, IO_TIMEOUT_MS), 200);
    assert_int_equal(http_get(slowapi.port, "/healthz", body, sizeof body, IO_TIMEOUT_MS), 200);
    json_t *stats = get_stats("/stats?reset=1");
    assert_int_equal(stats_int(stats, "answered", NULL), 1); /* delay=0 is not delayed */
    json_decref(stats);
    stats = get_stats("/stats");
    assert_int_equal(stats_int(stats, "answered", NULL), 0);
    assert_int_equal(stats_int(stats, "lateness_us", "max"), 0);
    /* At least this GET's; an earlier client's may still be closing. */
    assert_true(stats_int(stats, "peak_connections", NULL) >= 1);
    assert_true(stats_int(stats, "peak_connections", NULL) >=
                stats_int(stats, "connections", NULL));
    json_decref(stats);
    static const char post[] = "POST /stats HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
    char resp[1024];
    assert_int_equal(http_raw(slowapi.port, post, sizeof post - 1, resp, sizeof resp,
                              IO_TIMEOUT_MS), 405);
}

static void test_bad_delays(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "/?delay=-1", "/?delay=abc", "/?delay=61",  "/?delay=",     "/?delay",
        "/?delay=nan", "/?delay=inf", "/?delay=1e309", "/?delay=1%20", "/?delay=60.5",
        "/?delay=1,5", "/?delay=0x", "/?delay=1e",
    };
    char body[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int status = http_get(slowapi.port, bad[i], body, sizeof body, IO_TIMEOUT_MS);
        if (status != 400)
            print_message("%s: %d\n", bad[i], status);
        assert_int_equal(status, 400);
        assert_non_null(strstr(body, "\"error\""));
        assert_string_equal(body, DELAY_ERROR);
    }
    /* A value too long to be a sensible number, even if it would be one. */
    char url[160];
    int n = snprintf(url, sizeof url, "/?delay=");
    memset(url + n, '0', 100);
    snprintf(url + n + 100, sizeof url - (size_t)n - 100, "1");
    assert_int_equal(http_get(slowapi.port, url, body, sizeof body, IO_TIMEOUT_MS), 400);
    assert_string_equal(body, DELAY_ERROR);

    /* The edges are good. */
    assert_int_equal(http_get(slowapi.port, "/?delay=0.0", body, sizeof body, IO_TIMEOUT_MS), 200);
    assert_int_equal(http_get(slowapi.port, "/?other=5&delay=0.01", body, sizeof body,
                              IO_TIMEOUT_MS), 200);
    assert_string_equal(body, "{\"delay_s\":0.01}");
}

static void test_unknown_path_and_method(void **state)
{
    (void)state;
    char body[256], resp[1024];
    assert_int_equal(http_get(slowapi.port, "/nope", body, sizeof body, IO_TIMEOUT_MS), 404);
    assert_string_equal(body, "{\"error\":\"not found\",\"status\":404}");
    assert_int_equal(http_get(slowapi.port, "/healthz/x", body, sizeof body, IO_TIMEOUT_MS), 404);
    static const char post[] = "POST /healthz HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
    assert_int_equal(http_raw(slowapi.port, post, sizeof post - 1, resp, sizeof resp,
                              IO_TIMEOUT_MS), 405);
    assert_non_null(strstr(body_of(resp), "\"status\":405"));
    static const char del[] = "DELETE /?delay=1 HTTP/1.1\r\n\r\n";
    double t0 = now_ms();
    assert_int_equal(http_raw(slowapi.port, del, sizeof del - 1, resp, sizeof resp,
                              IO_TIMEOUT_MS), 405);
    assert_true(now_ms() - t0 < 500); /* refused at once, not after the delay */
    /* HEAD: 405 with no body, and the connection goes on with the next
     * request (a body would be read as the start of its answer). */
    static const char head_then_get[] = "HEAD /healthz HTTP/1.1\r\n\r\n"
                                        "GET /healthz HTTP/1.1\r\n\r\n";
    int fd = tcp_connect(slowapi.port);
    assert_true(fd >= 0);
    send_text(fd, head_then_get, sizeof head_then_get - 1);
    char both[2048];
    size_t got = 0;
    double until = now_ms() + IO_TIMEOUT_MS;
    while (got < sizeof both - 1 && now_ms() < until &&
           (got == 0 || strstr(both, healthz_body()) == NULL)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(fd, both + got, sizeof both - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        both[got] = '\0';
    }
    close(fd);
    assert_true(strncmp(both, "HTTP/1.1 405 ", 13) == 0);
    const char *second = strstr(both, "\r\n\r\n");
    assert_non_null(second);
    assert_true(strncmp(second + 4, "HTTP/1.1 200 ", 13) == 0);
    assert_non_null(strstr(second, healthz_body()));
}

static void test_garbage_closes(void **state)
{
    (void)state;
    char resp[1024];
    static const char garbage[] = "\x01\x02 this is not HTTP\r\n\r\n";
    int fd = tcp_connect(slowapi.port);
    assert_true(fd >= 0);
    send_text(fd, garbage, sizeof garbage - 1);
    assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 400);
    assert_non_null(strstr(resp, "Connection: close"));
    assert_non_null(strstr(body_of(resp), "\"error\""));
    assert_true(peer_closed(fd, IO_TIMEOUT_MS));
    close(fd);
}

static void test_header_too_large(void **state)
{
    (void)state;
    char resp[1024];
    size_t value_len = 9 * 1024;
    char *req = malloc(value_len + 64);
    assert_non_null(req);
    int n = snprintf(req, 64, "GET /?delay=0 HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', value_len);
    memcpy(req + n + value_len, "\r\n\r\n", 5);
    int fd = tcp_connect(slowapi.port);
    assert_true(fd >= 0);
    send_text(fd, req, strlen(req));
    assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 431);
    assert_true(peer_closed(fd, IO_TIMEOUT_MS));
    close(fd);

    /* A 3 KiB target is part of the header block too. */
    n = snprintf(req, value_len + 64, "GET /%03072d HTTP/1.1\r\n\r\n", 0);
    assert_int_equal(http_raw(slowapi.port, req, (size_t)n, resp, sizeof resp, IO_TIMEOUT_MS),
                     431);
    free(req);
}

/* Read exactly count responses (Content-Length framed) from fd into out,
 * in arrival order. Returns how many arrived. */
static int read_responses(int fd, char *out, size_t cap, int count)
{
    size_t used = 0;
    int complete = 0;
    const char *next = out;
    out[0] = '\0';
    double deadline = now_ms() + IO_TIMEOUT_MS;
    while (complete < count) {
        const char *end = strstr(next, "\r\n\r\n");
        const char *cl = strcasestr(next, "Content-Length:");
        if (end != NULL && cl != NULL && cl < end) {
            size_t body_len = strtoul(cl + 15, NULL, 10);
            if ((size_t)(end + 4 - out) + body_len <= used) {
                next = end + 4 + body_len;
                complete++;
                continue;
            }
        }
        int left_ms = (int)(deadline - now_ms());
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left_ms <= 0 || poll(&pfd, 1, left_ms) <= 0 || used + 1 >= cap)
            break;
        ssize_t n = recv(fd, out + used, cap - 1 - used, 0);
        if (n <= 0)
            break;
        used += (size_t)n;
        out[used] = '\0';
    }
    return complete;
}

static void test_keep_alive(void **state)
{
    (void)state;
    char resp[4096];
    static const char health[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char delayed[] = "GET /?delay=0.05 HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = tcp_connect(slowapi.port);
    assert_true(fd >= 0);
    send_text(fd, health, sizeof health - 1);
    assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 200);
    assert_non_null(strstr(resp, "Connection: keep-alive"));
    send_text(fd, delayed, sizeof delayed - 1);
    assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 200);
    assert_string_equal(body_of(resp), "{\"delay_s\":0.05}");

    /* Pipelined: a delayed request, then one answered at once, then a 404,
     * all in one write. Answers come in request order. */
    char three[256];
    int n = snprintf(three, sizeof three, "%s%sGET /x HTTP/1.1\r\n\r\n", delayed, health);
    send_text(fd, three, (size_t)n);
    assert_int_equal(read_responses(fd, resp, sizeof resp, 3), 3);
    const char *first = strstr(resp, "{\"delay_s\":0.05}");
    const char *second = strstr(resp, healthz_body());
    const char *third = strstr(resp, "\"status\":404");
    assert_non_null(first);
    assert_non_null(second);
    assert_non_null(third);
    assert_true(first < second && second < third);
    close(fd);
}

static void test_close_after_answer(void **state)
{
    (void)state;
    char resp[1024];
    static const char close_req[] = "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n";
    static const char http10[] = "GET /?delay=0.01 HTTP/1.0\r\n\r\n";
    const char *const reqs[] = {close_req, http10};
    for (size_t i = 0; i < 2; i++) {
        int fd = tcp_connect(slowapi.port);
        assert_true(fd >= 0);
        send_text(fd, reqs[i], strlen(reqs[i]));
        assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 200);
        assert_non_null(strstr(resp, "Connection: close"));
        assert_true(peer_closed(fd, IO_TIMEOUT_MS));
        close(fd);
    }
}

/* Clients that leave while their delay runs (some with a FIN, some with a
 * reset): the server drops their timers and lives on. */
static void test_client_leaves_during_delay(void **state)
{
    (void)state;
    static const char req[] = "GET /?delay=0.2 HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < 50; i++) {
        int fd = tcp_connect(slowapi.port);
        assert_true(fd >= 0);
        send_text(fd, req, sizeof req - 1);
        if (i % 2) {
            struct linger reset = {.l_onoff = 1, .l_linger = 0};
            assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
        }
        close(fd);
    }
    char body[256];
    assert_int_equal(http_get(slowapi.port, "/healthz", body, sizeof body, IO_TIMEOUT_MS), 200);
    /* Past the dropped requests' deadline: had a timer survived its
     * connection, it would have fired by now. */
    assert_int_equal(http_get(slowapi.port, "/?delay=0.3", body, sizeof body, IO_TIMEOUT_MS),
                     200);
    assert_int_equal(http_get(slowapi.port, "/healthz", body, sizeof body, IO_TIMEOUT_MS), 200);
}

/* SIGTERM with requests waiting and an idle keep-alive connection: exit 0
 * well within 2 s, and the waiting clients see the connection close. */
static void test_sigterm(void **state)
{
    (void)state;
    proc_t p;
    char resp[1024];
    assert_int_equal(start_slowapi(&p), 0);
    int waiting = tcp_connect(p.port), idle = tcp_connect(p.port);
    assert_true(waiting >= 0 && idle >= 0);
    static const char req[] = "GET /?delay=30 HTTP/1.1\r\n\r\n";
    static const char health[] = "GET /healthz HTTP/1.1\r\n\r\n";
    send_text(waiting, req, sizeof req - 1);
    send_text(idle, health, sizeof health - 1);
    /* The answer on idle proves the server has read both connections. */
    assert_int_equal(http_read_response(idle, resp, sizeof resp, IO_TIMEOUT_MS), 200);
    double t0 = now_ms();
    assert_int_equal(proc_stop(&p, STOP_TIMEOUT_MS), 0);
    assert_true(now_ms() - t0 < STOP_TIMEOUT_MS);
    assert_true(peer_closed(waiting, IO_TIMEOUT_MS));
    assert_true(peer_closed(idle, IO_TIMEOUT_MS));
    close(waiting);
    close(idle);
}

/* --workers 3: three processes on one port, each its own socket. Many
 * connections (new source ports, new hashes) reach all of them and are
 * delayed as usual; a killed worker stops the others and exit 1 says so;
 * SIGTERM ends all, exit 0. */
static void test_workers(void **state)
{
    (void)state;
    proc_t p;
    const char *argv[] = {bin_path("slowapi"), "--workers", "3", "--host", "127.0.0.1",
                          "--port", "0", NULL};
    const char *env[] = {"LOG_LEVEL=error", NULL};
    static const char req[] = "GET /?delay=0.2 HTTP/1.1\r\n\r\n";
    char resp[1024];
    int fds[30];
    assert_int_equal(proc_start(&p, argv, env, START_TIMEOUT_MS), 0);
    double t0 = now_ms();
    for (int i = 0; i < 30; i++) {
        fds[i] = tcp_connect(p.port);
        assert_true(fds[i] >= 0);
        send_text(fds[i], req, sizeof req - 1);
    }
    for (int i = 0; i < 30; i++) {
        assert_int_equal(http_read_response(fds[i], resp, sizeof resp, IO_TIMEOUT_MS), 200);
        close(fds[i]);
    }
    double took = now_ms() - t0;
    assert_true(took >= 200 && took < 1000);
    assert_int_equal(proc_stop(&p, STOP_TIMEOUT_MS), 0);

    /* A worker killed: the others stop too, and the exit status says so. */
    assert_int_equal(proc_start(&p, argv, env, START_TIMEOUT_MS), 0);
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)p.pid, (int)p.pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    long worker = strtol(buf, NULL, 10);
    assert_true(worker > 0);
    assert_int_equal(kill((pid_t)worker, SIGKILL), 0);
    assert_int_equal(proc_wait(&p, STOP_TIMEOUT_MS), 1);
}

/* Run slowapi with args and env (NULL-terminated) and its output
 * discarded; returns its exit status. For the usage errors, which exit at
 * once. */
static int run_status(const char *const args[], const char *const env[])
{
    posix_spawn_file_actions_t actions;
    assert_int_equal(posix_spawn_file_actions_init(&actions), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0), 0);
    pid_t pid;
    int rc = posix_spawn(&pid, bin_path("slowapi"), &actions, NULL, (char *const *)args,
                         env != NULL ? (char *const *)env : environ);
    posix_spawn_file_actions_destroy(&actions);
    assert_int_equal(rc, 0);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_usage(void **state)
{
    (void)state;
    const char *slowapi_bin = bin_path("slowapi");
    const char *help[] = {slowapi_bin, "--help", NULL};
    const char *bad_port[] = {slowapi_bin, "--port", "abc", NULL};
    const char *big_port[] = {slowapi_bin, "--port", "70000", NULL};
    const char *bad_host[] = {slowapi_bin, "--host", "localhost:1", NULL};
    const char *unknown[] = {slowapi_bin, "--frobnicate", NULL};
    const char *missing[] = {slowapi_bin, "--port", NULL};
    const char *extra[] = {slowapi_bin, "extra", NULL};
    const char *bad_fd[] = {slowapi_bin, "--ready-fd", "999", NULL};
    const char *ports_no_workers[] = {slowapi_bin, "--ports", "2", NULL};
    const char *too_many_ports[] = {slowapi_bin, "--ports", "17", "--workers", "17", NULL};
    const char *ports_past_end[] = {slowapi_bin, "--port", "65535", "--ports", "2", "--workers", "2", NULL};
    const char *plain[] = {slowapi_bin, NULL};
    const char *bad_env[] = {"PORT=http", NULL};
    const char *bad_level[] = {"LOG_LEVEL=loud", NULL};
    assert_int_equal(run_status(help, NULL), 0);
    assert_int_equal(run_status(bad_port, NULL), 2);
    assert_int_equal(run_status(big_port, NULL), 2);
    assert_int_equal(run_status(bad_host, NULL), 2);
    assert_int_equal(run_status(unknown, NULL), 2);
    assert_int_equal(run_status(missing, NULL), 2);
    assert_int_equal(run_status(extra, NULL), 2);
    assert_int_equal(run_status(bad_fd, NULL), 2);
    assert_int_equal(run_status(ports_no_workers, NULL), 2);
    assert_int_equal(run_status(too_many_ports, NULL), 2);
    assert_int_equal(run_status(ports_past_end, NULL), 2);
    assert_int_equal(run_status(plain, bad_env), 2);
    assert_int_equal(run_status(plain, bad_level), 2);
}

/* A port already taken is a start-up failure: exit 1. */
static void test_port_in_use(void **state)
{
    (void)state;
    char port[16];
    snprintf(port, sizeof port, "%d", slowapi.port);
    const char *args[] = {bin_path("slowapi"), "--host", "127.0.0.1", "--port", port, NULL};
    assert_int_equal(run_status(args, NULL), 1);
}

/* h2c (HTTP/2 with prior knowledge) on the same port, through libcurl. */

#define H2_STREAMS 20
#define H2_LEFT_STREAMS 10

typedef struct {
    char data[512];
    size_t len;
} h2_body_t;

static size_t h2_on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    h2_body_t *b = userdata;
    size_t n = size * nmemb;
    size_t room = sizeof b->data - 1 - b->len;
    size_t take = n < room ? n : room;
    memcpy(b->data + b->len, ptr, take);
    b->len += take;
    b->data[b->len] = '\0';
    return n;
}

/* An easy handle for GET path over h2c, its body into body. */
static CURL *h2_handle(int port, const char *path, h2_body_t *body)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    body->len = 0;
    body->data[0] = '\0';
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_URL, url), CURLE_OK);
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_HTTP_VERSION,
                                      (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE), CURLE_OK);
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, h2_on_body), CURLE_OK);
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_WRITEDATA, body), CURLE_OK);
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)IO_TIMEOUT_MS), CURLE_OK);
    return curl;
}

/* One h2c GET on a new connection to port, with prior knowledge
 * (CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE) or by an HTTP/1.1 Upgrade
 * (CURL_HTTP_VERSION_2_0); returns the status, the body in body. */
static long h2_get_at(int port, const char *path, long http_version, h2_body_t *body)
{
    CURL *curl = h2_handle(port, path, body);
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, http_version), CURLE_OK);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK)
        print_message("h2c GET %s: %s\n", path, curl_easy_strerror(rc));
    assert_int_equal(rc, CURLE_OK);
    long status = 0, version = 0;
    assert_int_equal(curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
    assert_int_equal(curl_easy_getinfo(curl, CURLINFO_HTTP_VERSION, &version), CURLE_OK);
    assert_int_equal(version, CURL_HTTP_VERSION_2_0);
    curl_easy_cleanup(curl);
    return status;
}

/* One h2c GET to the shared slowapi, with prior knowledge. */
static long h2_get(const char *path, h2_body_t *body)
{
    return h2_get_at(slowapi.port, path, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, body);
}

static void test_h2c_delay(void **state)
{
    (void)state;
    h2_body_t body;
    double t0 = now_ms();
    assert_int_equal(h2_get("/?delay=0.1", &body), 200);
    double took_ms = now_ms() - t0;
    if (took_ms < 100 || took_ms >= 400)
        print_message("h2c delay=0.1 took %.1f ms\n", took_ms);
    assert_true(took_ms >= 100); /* never early */
    assert_true(took_ms < 400);
    /* The same body as HTTP/1.1's. */
    char http1_body[256];
    assert_int_equal(http_get(slowapi.port, "/?delay=0.1", http1_body, sizeof http1_body,
                              IO_TIMEOUT_MS), 200);
    assert_string_equal(body.data, http1_body);
    assert_string_equal(body.data, "{\"delay_s\":0.1}");
}

/* H2_STREAMS requests of delay=0.2 through multi (which may multiplex),
 * each with PIPEWAIT, all asserted 200 over HTTP/2 with the body of
 * delay=0.2. first_version is the first transfer's CURLOPT_HTTP_VERSION,
 * CURL_HTTP_VERSION_2_0 the others'. Returns the connections the round
 * opened (the sum of CURLINFO_NUM_CONNECTS); *min_ms and *max_ms say when
 * the first and the last were done. */
static long h2_round(CURLM *multi, long first_version, double *min_ms, double *max_ms)
{
    CURL *handles[H2_STREAMS];
    static h2_body_t bodies[H2_STREAMS];
    double done_ms[H2_STREAMS];
    double t0 = now_ms();
    for (int i = 0; i < H2_STREAMS; i++) {
        handles[i] = h2_handle(slowapi.port, "/?delay=0.2", &bodies[i]);
        long version = i == 0 ? first_version : (long)CURL_HTTP_VERSION_2_0;
        assert_int_equal(curl_easy_setopt(handles[i], CURLOPT_HTTP_VERSION, version), CURLE_OK);
        assert_int_equal(curl_easy_setopt(handles[i], CURLOPT_PIPEWAIT, 1L), CURLE_OK);
        assert_int_equal(curl_easy_setopt(handles[i], CURLOPT_PRIVATE, (void *)(intptr_t)i),
                         CURLE_OK);
        assert_int_equal(curl_multi_add_handle(multi, handles[i]), CURLM_OK);
        done_ms[i] = -1;
    }
    int running = H2_STREAMS;
    while (running > 0) {
        assert_true(now_ms() - t0 < IO_TIMEOUT_MS);
        assert_int_equal(curl_multi_perform(multi, &running), CURLM_OK);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            void *priv;
            assert_int_equal(curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv),
                             CURLE_OK);
            int i = (int)(intptr_t)priv;
            if (msg->data.result != CURLE_OK)
                print_message("stream %d: %s\n", i, curl_easy_strerror(msg->data.result));
            assert_int_equal(msg->data.result, CURLE_OK);
            done_ms[i] = now_ms() - t0;
        }
        if (running > 0)
            assert_int_equal(curl_multi_poll(multi, NULL, 0, 100, NULL), CURLM_OK);
    }
    long connects = 0;
    *min_ms = 1e9;
    *max_ms = 0;
    for (int i = 0; i < H2_STREAMS; i++) {
        long status = 0, version = 0, n = 0;
        assert_int_equal(curl_easy_getinfo(handles[i], CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
        assert_int_equal(curl_easy_getinfo(handles[i], CURLINFO_HTTP_VERSION, &version),
                         CURLE_OK);
        assert_int_equal(curl_easy_getinfo(handles[i], CURLINFO_NUM_CONNECTS, &n), CURLE_OK);
        connects += n;
        assert_int_equal(status, 200);
        assert_int_equal(version, CURL_HTTP_VERSION_2_0);
        assert_string_equal(bodies[i].data, "{\"delay_s\":0.2}");
        *min_ms = done_ms[i] < *min_ms ? done_ms[i] : *min_ms;
        *max_ms = done_ms[i] > *max_ms ? done_ms[i] : *max_ms;
        assert_int_equal(curl_multi_remove_handle(multi, handles[i]), CURLM_OK);
        curl_easy_cleanup(handles[i]);
    }
    return connects;
}

static CURLM *h2_multi(void)
{
    CURLM *multi = curl_multi_init();
    assert_non_null(multi);
    assert_int_equal(curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX),
                     CURLM_OK);
    return multi;
}

/* H2_STREAMS requests of delay=0.2 through one multi handle that may
 * multiplex: all on one connection, all answered after about 0.2 s.
 *
 * Only the first transfer asks for prior knowledge. libcurl 7.88 (Debian
 * bookworm's) fails a prior-knowledge transfer that reuses an h2c
 * connection with CURLE_HTTP2 (it stacks a second HTTP/2 layer on the
 * connection: curl issue 10634, fixed in 8.0.0). The others ask for
 * CURL_HTTP_VERSION_2_0 and, with PIPEWAIT, wait for and join the first
 * one's connection as streams; h2_round checks that every one of them did
 * speak HTTP/2. */
static void test_h2c_multiplexed(void **state)
{
    (void)state;
    CURLM *multi = h2_multi();
    double min_ms, max_ms;
    long connects = h2_round(multi, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &min_ms, &max_ms);
    assert_int_equal(curl_multi_cleanup(multi), CURLM_OK);
    print_message("%d h2c streams of delay=0.2: done after %.1f .. %.1f ms, %ld connection(s)\n",
                  H2_STREAMS, min_ms, max_ms, connects);
    assert_true(min_ms >= 200);
    assert_true(max_ms < 800);
    assert_int_equal(connects, 1);
}

/* CURL_HTTP_VERSION_2_0 on http://: libcurl asks for h2c with an HTTP/1.1
 * Upgrade (RFC 7540 3.2), and the request is answered on stream 1 after
 * its delay, counted in /stats like any delayed answer. */
static void test_h2c_upgrade_delay(void **state)
{
    (void)state;
    json_t *stats = get_stats("/stats");
    long long answered = stats_int(stats, "answered", NULL);
    json_decref(stats);
    h2_body_t body;
    CURL *curl = h2_handle(slowapi.port, "/?delay=0.1", &body);
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_0),
                     CURLE_OK);
    double t0 = now_ms();
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    double took_ms = now_ms() - t0;
    long status = 0, version = 0;
    assert_int_equal(curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
    assert_int_equal(curl_easy_getinfo(curl, CURLINFO_HTTP_VERSION, &version), CURLE_OK);
    curl_easy_cleanup(curl);
    if (took_ms < 100 || took_ms >= 400)
        print_message("h2c upgrade delay=0.1 took %.1f ms\n", took_ms);
    assert_int_equal(status, 200);
    assert_int_equal(version, CURL_HTTP_VERSION_2_0);
    assert_string_equal(body.data, "{\"delay_s\":0.1}");
    assert_true(took_ms >= 100); /* never early */
    assert_true(took_ms < 400);
    stats = get_stats("/stats");
    assert_int_equal(stats_int(stats, "answered", NULL), answered + 1);
    json_decref(stats);
}

/* What the servers under test do with libcurl 7.88: CURL_HTTP_VERSION_2_0
 * and PIPEWAIT on every transfer of one multi handle. The first transfer
 * upgrades a new connection, the others wait for it and join as streams;
 * a second round reuses that connection and opens none. */
static void test_h2c_upgrade_multiplexed(void **state)
{
    (void)state;
    CURLM *multi = h2_multi();
    double min_ms, max_ms;
    long connects = h2_round(multi, (long)CURL_HTTP_VERSION_2_0, &min_ms, &max_ms);
    print_message("%d upgraded h2c streams of delay=0.2: done after %.1f .. %.1f ms, "
                  "%ld connection(s)\n", H2_STREAMS, min_ms, max_ms, connects);
    assert_true(min_ms >= 200);
    assert_true(max_ms < 800);
    assert_int_equal(connects, 1);

    connects = h2_round(multi, (long)CURL_HTTP_VERSION_2_0, &min_ms, &max_ms);
    print_message("again on the same multi handle: %.1f .. %.1f ms, %ld new connection(s)\n",
                  min_ms, max_ms, connects);
    assert_true(min_ms >= 200);
    assert_true(max_ms < 800);
    assert_int_equal(connects, 0);
    assert_int_equal(curl_multi_cleanup(multi), CURLM_OK);
}

static void test_h2c_errors(void **state)
{
    (void)state;
    h2_body_t body;
    assert_int_equal(h2_get("/?delay=-1", &body), 400);
    assert_string_equal(body.data, DELAY_ERROR);
    assert_int_equal(h2_get("/nope", &body), 404);
    assert_string_equal(body.data, "{\"error\":\"not found\",\"status\":404}");
    assert_int_equal(h2_get("/healthz", &body), 200);
    assert_string_equal(body.data, healthz_body());
    assert_int_equal(h2_get("/?delay=0", &body), 200);
    assert_string_equal(body.data, "{\"delay_s\":0}");
}

/* Raw HTTP/2 for what libcurl will not do: garbage, leaving mid-stream. */
#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_SETTINGS_EMPTY "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
#define H2_FRAME_HEADERS 0x1
#define H2_FRAME_RST_STREAM 0x3
#define H2_FRAME_GOAWAY 0x7
#define H2_FLAG_END_STREAM 0x1

typedef struct {
    unsigned type, flags;
    uint32_t stream_id;
    size_t len;
    unsigned char payload[16384];
} h2_frame_t;

static void h2_frame_header(unsigned char *out, size_t len, unsigned type, unsigned flags,
                            uint32_t stream_id)
{
    out[0] = (unsigned char)(len >> 16);
    out[1] = (unsigned char)(len >> 8);
    out[2] = (unsigned char)len;
    out[3] = (unsigned char)type;
    out[4] = (unsigned char)flags;
    out[5] = (unsigned char)(stream_id >> 24);
    out[6] = (unsigned char)(stream_id >> 16);
    out[7] = (unsigned char)(stream_id >> 8);
    out[8] = (unsigned char)stream_id;
}

/* A HEADERS frame (END_STREAM, END_HEADERS) for GET path into out; HPACK
 * with static-table names and literal values, no Huffman. Returns its
 * length. */
static size_t h2_get_frame(unsigned char *out, uint32_t stream_id, const char *path)
{
    static const char authority[] = "127.0.0.1";
    size_t path_len = strlen(path), n = 9;
    assert_true(path_len < 127);
    out[n++] = 0x82; /* :method GET */
    out[n++] = 0x86; /* :scheme http */
    out[n++] = 0x04; /* :path, literal value */
    out[n++] = (unsigned char)path_len;
    memcpy(out + n, path, path_len);
    n += path_len;
    out[n++] = 0x01; /* :authority, literal value */
    out[n++] = sizeof authority - 1;
    memcpy(out + n, authority, sizeof authority - 1);
    n += sizeof authority - 1;
    h2_frame_header(out, n - 9, H2_FRAME_HEADERS, 0x5, stream_id);
    return n;
}

static int recv_exact(int fd, unsigned char *buf, size_t len, double deadline_ms)
{
    size_t got = 0;
    while (got < len) {
        int left_ms = (int)(deadline_ms - now_ms());
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left_ms <= 0 || poll(&pfd, 1, left_ms) <= 0)
            return -1;
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* The next frame from fd; 0, or -1 on EOF, reset or timeout. */
static int h2_read_frame(int fd, h2_frame_t *f)
{
    unsigned char h[9];
    double deadline_ms = now_ms() + IO_TIMEOUT_MS;
    if (recv_exact(fd, h, sizeof h, deadline_ms) < 0)
        return -1;
    f->len = (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2];
    f->type = h[3];
    f->flags = h[4];
    f->stream_id = ((uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8]) &
                   0x7fffffffu;
    if (f->len > sizeof f->payload)
        return -1;
    return recv_exact(fd, f->payload, f->len, deadline_ms);
}

/* Read frames until the response on stream_id ends; 1 when it did. Counts
 * the HEADERS frames that came for other streams into *others. */
static int h2_await_response(int fd, uint32_t stream_id, int *others)
{
    static h2_frame_t f;
    while (h2_read_frame(fd, &f) == 0) {
        if (f.type == H2_FRAME_HEADERS && f.stream_id != stream_id && others != NULL)
            (*others)++;
        if (f.stream_id == stream_id && (f.flags & H2_FLAG_END_STREAM))
            return 1;
    }
    return 0;
}

/* Garbage after the preface: GOAWAY, then the server closes; it answers
 * the next client as ever. */
static void test_h2c_garbage_goaway(void **state)
{
    (void)state;
    static const char garbage[] = H2_PREFACE "this is not an HTTP/2 frame at all\r\n\r\n";
    int fd = tcp_connect(slowapi.port);
    assert_true(fd >= 0);
    send_text(fd, garbage, sizeof garbage - 1);
    static h2_frame_t f;
    int goaway = 0;
    while (!goaway && h2_read_frame(fd, &f) == 0)
        goaway = f.type == H2_FRAME_GOAWAY;
    assert_true(goaway);
    assert_true(peer_closed(fd, IO_TIMEOUT_MS));
    close(fd);

    /* A preface cut short, then a close: nothing to answer. */
    fd = tcp_connect(slowapi.port);
    assert_true(fd >= 0);
    send_text(fd, "PRI * HTTP/2", 12);
    close(fd);

    h2_body_t body;
    assert_int_equal(h2_get("/healthz", &body), 200);
    char http1_body[256];
    assert_int_equal(http_get(slowapi.port, "/healthz", http1_body, sizeof http1_body,
                              IO_TIMEOUT_MS), 200);
}

/* The first bytes decide the protocol even when they come in pieces: a
 * preface in two sends is h2c, a "P" that turns into "POST" HTTP/1.1. */
static void test_h2c_split_preface(void **state)
{
    (void)state;
    unsigned char out[256];
    size_t n = 24 + 9;
    memcpy(out, H2_PREFACE H2_SETTINGS_EMPTY, n);
    n += h2_get_frame(out + n, 1, "/healthz");
    int fd = tcp_connect(slowapi.port);
    assert_true(fd >= 0);
    send_text(fd, (const char *)out, 10);
    send_text(fd, (const char *)out + 10, n - 10);
    assert_true(h2_await_response(fd, 1, NULL));
    close(fd);

    char resp[1024];
    static const char post[] = "POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
    fd = tcp_connect(slowapi.port);
    assert_true(fd >= 0);
    send_text(fd, post, 1);
    send_text(fd, post + 1, sizeof post - 2);
    assert_int_equal(http_read_response(fd, resp, sizeof resp, IO_TIMEOUT_MS), 405);
    close(fd);
}

/* An h2c upgrade request as curl 7.88 sends it; its HTTP2-Settings is
 * curl's (MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 32 MiB,
 * ENABLE_PUSH 0). */
#define H2_UPGRADE_SETTINGS "AAMAAABkAAQCAAAAAAIAAAAA"
#define H2_UPGRADE_HEADERS(settings)                                                          \
    "Host: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"          \
    "HTTP2-Settings: " settings "\r\n"
#define H2_SWITCHING "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n" \
                     "Upgrade: h2c\r\n\r\n"

/* The upgrade with the client's preface and a second stream right behind
 * the request, as one might send them without waiting for the 101 (and
 * the request in pieces): the 101, then stream 3 answered at once and the
 * upgraded request on stream 1 after its delay, no byte lost. */
static void test_h2c_upgrade_pipelined(void **state)
{
    (void)state;
    static const char req[] = "GET /?delay=0.1 HTTP/1.1\r\n"
                              H2_UPGRADE_HEADERS(H2_UPGRADE_SETTINGS) "\r\n";
    unsigned char out[512];
    size_t n = sizeof req - 1;
    memcpy(out, req, n);
    memcpy(out + n, H2_PREFACE H2_SETTINGS_EMPTY, 24 + 9);
    n += 24 + 9;
    n += h2_get_frame(out + n, 3, "/healthz");
    int fd = tcp_connect(slowapi.port);
    assert_true(fd >= 0);
    /* Cut inside the HTTP2-Settings header's name, then inside its value. */
    size_t cut1 = (size_t)(strstr(req, "Settings: A") - req), cut2 = cut1 + 14;
    double t0 = now_ms();
    send_text(fd, (const char *)out, cut1);
    send_text(fd, (const char *)out + cut1, cut2 - cut1);
    send_text(fd, (const char *)out + cut2, n - cut2);
    unsigned char switching[sizeof H2_SWITCHING - 1];
    assert_int_equal(recv_exact(fd, switching, sizeof switching, now_ms() + IO_TIMEOUT_MS), 0);
    assert_memory_equal(switching, H2_SWITCHING, sizeof switching);
    int others = 0;
    assert_true(h2_await_response(fd, 3, &others));
    assert_int_equal(others, 0); /* stream 1 waits for its delay */
    assert_true(h2_await_response(fd, 1, NULL));
    assert_true(now_ms() - t0 >= 100);
    close(fd);
}

/* After the 101, garbage instead of the preface: the connection closes. A
 * client that leaves while its upgraded request waits: the stream's
 * deadline is dropped (ASan, valgrind), and the server serves on. */
static void test_h2c_upgrade_bad_client(void **state)
{
    (void)state;
    static const char garbage[] = "GET /healthz HTTP/1.1\r\n"
                                  H2_UPGRADE_HEADERS(H2_UPGRADE_SETTINGS) "\r\n"
                                  "this is no HTTP/2 preface at all\r\n\r\n";
    int fd = tcp_connect(slowapi.port);
    assert_true(fd >= 0);
    send_text(fd, garbage, sizeof garbage - 1);
    assert_true(peer_closed(fd, IO_TIMEOUT_MS));
    close(fd);

    static const char waiting[] = "GET /?delay=0.2 HTTP/1.1\r\n"
                                  H2_UPGRADE_HEADERS(H2_UPGRADE_SETTINGS) "\r\n";
    fd = tcp_connect(slowapi.port);
    assert_true(fd >= 0);
    send_text(fd, waiting, sizeof waiting - 1);
    unsigned char switching[sizeof H2_SWITCHING - 1];
    assert_int_equal(recv_exact(fd, switching, sizeof switching, now_ms() + IO_TIMEOUT_MS), 0);
    close(fd);
    /* Past the dropped stream's deadline. */
    h2_body_t body;
    assert_int_equal(h2_get("/?delay=0.3", &body), 200);
}

/* Upgrades refused: each request is answered over HTTP/1.1, no 101. */
static void test_h2c_upgrade_refused(void **state)
{
    (void)state;
    static const char *const reqs[] = {
        /* HTTP2-Settings not base64url, not whole settings, a bad value
         * (ENABLE_PUSH 2), twice, missing */
        "GET /healthz HTTP/1.1\r\n" H2_UPGRADE_HEADERS("!!not base64!!") "\r\n",
        "GET /healthz HTTP/1.1\r\n" H2_UPGRADE_HEADERS("AAMA") "\r\n",
        "GET /healthz HTTP/1.1\r\n" H2_UPGRADE_HEADERS("AAIAAAAC") "\r\n",
        "GET /healthz HTTP/1.1\r\n" H2_UPGRADE_HEADERS(H2_UPGRADE_SETTINGS)
        "HTTP2-Settings: " H2_UPGRADE_SETTINGS "\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
        /* another protocol */
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        "Upgrade: websocket\r\nHTTP2-Settings: " H2_UPGRADE_SETTINGS "\r\n\r\n",
        /* Upgrade not named in Connection; HTTP/1.0 */
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: HTTP2-Settings\r\nUpgrade: h2c\r\n"
        "HTTP2-Settings: " H2_UPGRADE_SETTINGS "\r\n\r\n",
        "GET /healthz HTTP/1.0\r\n" H2_UPGRADE_HEADERS(H2_UPGRADE_SETTINGS) "\r\n",
        /* a body */
        "GET /healthz HTTP/1.1\r\n" H2_UPGRADE_HEADERS(H2_UPGRADE_SETTINGS)
        "Content-Length: 2\r\n\r\n{}",
        "GET /healthz HTTP/1.1\r\n" H2_UPGRADE_HEADERS(H2_UPGRADE_SETTINGS)
        "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    };
    char resp[2048];
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        int status = http_raw(slowapi.port, reqs[i], strlen(reqs[i]), resp, sizeof resp,
                              IO_TIMEOUT_MS);
        if (status != 200)
            print_message("request %zu: %d: %.40s\n", i, status, resp);
        assert_int_equal(status, 200);
        assert_true(strncmp(resp, "HTTP/1.1 200 ", 13) == 0);
        assert_string_equal(body_of(resp), healthz_body());
    }
    /* The connection stays HTTP/1.1 after a refusal: a request pipelined
     * behind a refused upgrade is answered as ever. */
    static const char nope[] = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = tcp_connect(slowapi.port);
    assert_true(fd >= 0);
    send_text(fd, reqs[0], strlen(reqs[0]));
    send_text(fd, nope, sizeof nope - 1);
    assert_int_equal(read_responses(fd, resp, sizeof resp, 2), 2);
    assert_true(strncmp(resp, "HTTP/1.1 200 ", 13) == 0);
    assert_non_null(strstr(resp, "HTTP/1.1 404 "));
    close(fd);
}

/* Clients that reset a waiting stream, or close the connection while
 * H2_LEFT_STREAMS streams wait: their deadlines go, the connection count
 * goes back down, and the server serves on. */
static void test_h2c_client_leaves(void **state)
{
    (void)state;
    json_t *stats = get_stats("/stats");
    long long before = stats_int(stats, "connections", NULL);
    json_decref(stats);

    /* H2_LEFT_STREAMS delayed streams, then a /healthz: its answer shows
     * the server has read every stream before it. */
    unsigned char out[4096];
    size_t n = 0;
    memcpy(out, H2_PREFACE H2_SETTINGS_EMPTY, 24 + 9);
    n = 24 + 9;
    uint32_t id = 1;
    for (int i = 0; i < H2_LEFT_STREAMS; i++, id += 2)
        n += h2_get_frame(out + n, id, "/?delay=0.3");
    n += h2_get_frame(out + n, id, "/healthz");
    int left = tcp_connect(slowapi.port);
    assert_true(left >= 0);
    send_text(left, (const char *)out, n);
    int others = 0;
    assert_true(h2_await_response(left, id, &others));
    assert_int_equal(others, 0); /* nothing delayed answered yet */

    /* A stream reset while it waits gets no answer; the next one does. */
    int reset = tcp_connect(slowapi.port);
    assert_true(reset >= 0);
    memcpy(out, H2_PREFACE H2_SETTINGS_EMPTY, 24 + 9);
    n = 24 + 9;
    n += h2_get_frame(out + n, 1, "/?delay=0.2");
    h2_frame_header(out + n, 4, H2_FRAME_RST_STREAM, 0, 1);
    n += 9;
    memcpy(out + n, "\x00\x00\x00\x08", 4); /* CANCEL */
    n += 4;
    n += h2_get_frame(out + n, 3, "/?delay=0.3");
    send_text(reset, (const char *)out, n);
    others = 0;
    assert_true(h2_await_response(reset, 3, &others));
    assert_int_equal(others, 0);

    stats = get_stats("/stats");
    assert_true(stats_int(stats, "connections", NULL) >= before + 2);
    json_decref(stats);
    close(left);
    close(reset);

    /* The count goes back down once the server has seen both closes. */
    long long now = 0;
    double deadline_ms = now_ms() + IO_TIMEOUT_MS;
    do {
        stats = get_stats("/stats");
        now = stats_int(stats, "connections", NULL);
        json_decref(stats);
    } while (now > before && now_ms() < deadline_ms);
    assert_true(now <= before);

    /* Past the dropped streams' deadlines: had one survived its
     * connection, it would have fired by now. */
    h2_body_t body;
    assert_int_equal(h2_get("/?delay=0.4", &body), 200);
    char http1_body[256];
    assert_int_equal(http_get(slowapi.port, "/healthz", http1_body, sizeof http1_body,
                              IO_TIMEOUT_MS), 200);
}

/* SIGTERM with h2c streams waiting: exit 0 in time, the client sees the
 * connection close, as for HTTP/1.1. */
static void test_h2c_sigterm(void **state)
{
    (void)state;
    proc_t p;
    assert_int_equal(start_slowapi(&p), 0);
    unsigned char out[512];
    size_t n = 24 + 9;
    memcpy(out, H2_PREFACE H2_SETTINGS_EMPTY, n);
    n += h2_get_frame(out + n, 1, "/?delay=30");
    n += h2_get_frame(out + n, 3, "/?delay=30");
    n += h2_get_frame(out + n, 5, "/healthz");
    int fd = tcp_connect(p.port);
    assert_true(fd >= 0);
    send_text(fd, (const char *)out, n);
    assert_true(h2_await_response(fd, 5, NULL)); /* both waiting ones were read */
    double t0 = now_ms();
    assert_int_equal(proc_stop(&p, STOP_TIMEOUT_MS), 0);
    assert_true(now_ms() - t0 < STOP_TIMEOUT_MS);
    assert_true(peer_closed(fd, IO_TIMEOUT_MS));
    close(fd);
}

/* calls_total: delayed answers written since start, over HTTP/1.1, h2c
 * with prior knowledge and h2c by Upgrade; not what is answered at once or
 * refused, not a request whose client left before its deadline; and
 * ?reset=1, which empties the window's "answered", leaves it. A slowapi of
 * its own, so that the count starts at 0. */
#define CALLS_HTTP1 5
#define CALLS_H2C 3
#define CALLS_UPGRADE 2

/* The calls_total member of GET /stats on port. */
static long long calls_total_at(int port, const char *path)
{
    json_t *stats = get_stats_at(port, path);
    long long calls = stats_int(stats, "calls_total", NULL);
    json_decref(stats);
    return calls;
}

/* Delayed GETs to port, one after the other, each on a connection of its
 * own: http1 over HTTP/1.1, h2c over h2c with prior knowledge, upgrade
 * over h2c by Upgrade. Returns how many. */
static int delayed_mix(int port, int http1, int h2c, int upgrade)
{
    char body[256];
    h2_body_t h2_body;
    for (int i = 0; i < http1; i++)
        assert_int_equal(http_get(port, "/?delay=0.01", body, sizeof body, IO_TIMEOUT_MS), 200);
    for (int i = 0; i < h2c; i++)
        assert_int_equal(h2_get_at(port, "/?delay=0.01",
                                   (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, &h2_body), 200);
    for (int i = 0; i < upgrade; i++)
        assert_int_equal(h2_get_at(port, "/?delay=0.01", (long)CURL_HTTP_VERSION_2_0, &h2_body),
                         200);
    return http1 + h2c + upgrade;
}

static void test_calls_total(void **state)
{
    (void)state;
    proc_t p;
    assert_int_equal(start_slowapi(&p), 0);
    assert_int_equal(calls_total_at(p.port, "/stats"), 0);
    long long total = delayed_mix(p.port, CALLS_HTTP1, CALLS_H2C, CALLS_UPGRADE);

    /* Not counted: answered at once, refused, or never answered. */
    static const struct {
        const char *path;
        int status;
    } at_once[] = {{"/?delay=0", 200}, {"/healthz", 200}, {"/?delay=-1", 400}, {"/nope", 404}};
    char body[256];
    for (size_t i = 0; i < sizeof at_once / sizeof at_once[0]; i++)
        assert_int_equal(http_get(p.port, at_once[i].path, body, sizeof body, IO_TIMEOUT_MS),
                         at_once[i].status);
    h2_body_t h2_body;
    assert_int_equal(h2_get_at(p.port, "/?delay=0", (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE,
                               &h2_body), 200);
    static const char left[] = "GET /?delay=0.05 HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = tcp_connect(p.port);
    assert_true(fd >= 0);
    send_text(fd, left, sizeof left - 1);
    close(fd);
    /* Past the abandoned request's deadline: had it been answered, or its
     * answer counted, the count would show it now. */
    assert_int_equal(http_get(p.port, "/?delay=0.1", body, sizeof body, IO_TIMEOUT_MS), 200);
    total++;

    json_t *stats = get_stats_at(p.port, "/stats?reset=1");
    assert_int_equal(stats_int(stats, "calls_total", NULL), total);
    assert_int_equal(stats_int(stats, "answered", NULL), total);
    json_decref(stats);
    stats = get_stats_at(p.port, "/stats");
    assert_int_equal(stats_int(stats, "answered", NULL), 0); /* a new window */
    assert_int_equal(stats_int(stats, "calls_total", NULL), total); /* the same count */
    json_decref(stats);
    total += delayed_mix(p.port, 1, 1, 0);
    assert_int_equal(calls_total_at(p.port, "/stats"), total);
    assert_int_equal(proc_stop(&p, STOP_TIMEOUT_MS), 0);
}

/* --workers 2: delayed requests spread over both workers (each on a
 * connection of its own: new source ports, new hashes), then GET /stats
 * from both, each on new connections until both have answered: each
 * reports the whole calls_total, and their own "answered" figures, both
 * above 0 (the requests were spread), add up to it. A reset in one worker
 * leaves the count. */
#define WORKERS_CONNS 40
#define WORKERS_STATS_READS_MAX 200
/* Odd, so that the two workers' "answered" cannot be equal: a figure not
 * seen before is the other worker's. */
_Static_assert((WORKERS_CONNS + CALLS_H2C + CALLS_UPGRADE) % 2 == 1,
               "the workers test needs an odd number of delayed answers");

static void test_calls_total_workers(void **state)
{
    (void)state;
    proc_t p;
    const char *argv[] = {bin_path("slowapi"), "--workers", "2", "--host", "127.0.0.1",
                          "--port", "0", NULL};
    const char *env[] = {"LOG_LEVEL=error", NULL};
    static const char req[] = "GET /?delay=0.05 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(proc_start(&p, argv, env, START_TIMEOUT_MS), 0);
    int fds[WORKERS_CONNS];
    char resp[1024];
    for (int i = 0; i < WORKERS_CONNS; i++) {
        fds[i] = tcp_connect(p.port);
        assert_true(fds[i] >= 0);
        send_text(fds[i], req, sizeof req - 1);
    }
    for (int i = 0; i < WORKERS_CONNS; i++) {
        assert_int_equal(http_read_response(fds[i], resp, sizeof resp, IO_TIMEOUT_MS), 200);
        close(fds[i]);
    }
    long long total = WORKERS_CONNS + delayed_mix(p.port, 0, CALLS_H2C, CALLS_UPGRADE);

    long long answered[2] = {-1, -1};
    for (int i = 0; i < WORKERS_STATS_READS_MAX && answered[1] < 0; i++) {
        json_t *stats = get_stats_at(p.port, "/stats");
        assert_int_equal(stats_int(stats, "calls_total", NULL), total);
        long long mine = stats_int(stats, "answered", NULL);
        json_decref(stats);
        if (answered[0] < 0)
            answered[0] = mine;
        else if (mine != answered[0])
            answered[1] = mine;
    }
    print_message("%lld delayed answers: %lld and %lld by the two workers\n", total, answered[0],
                  answered[1]);
    assert_true(answered[0] > 0 && answered[1] > 0);
    assert_int_equal(answered[0] + answered[1], total);

    assert_int_equal(calls_total_at(p.port, "/stats?reset=1"), total);
    for (int i = 0; i < 10; i++)
        assert_int_equal(calls_total_at(p.port, "/stats"), total);
    assert_int_equal(proc_stop(&p, STOP_TIMEOUT_MS), 0);
}

/* --ports 3 --workers 4: the run of ports from the one the kernel picked,
 * worker i on port i mod 3 (the first port has two). Each port answers;
 * the second and third have one worker each, whose /stats counts just the
 * calls that came to that port, while calls_total counts all of them. */
static void test_ports(void **state)
{
    (void)state;
    proc_t p;
    const char *argv[] = {bin_path("slowapi"), "--ports", "3", "--workers", "4", "--host",
                          "127.0.0.1", "--port", "0", NULL};
    const char *env[] = {"LOG_LEVEL=error", NULL};
    assert_int_equal(proc_start(&p, argv, env, START_TIMEOUT_MS), 0);
    char body[256];
    for (int port = 0; port < 3; port++)
        for (int i = 0; i <= port; i++)
            assert_int_equal(http_get(p.port + port, "/?delay=0.01", body, sizeof body, IO_TIMEOUT_MS),
                             200);
    for (int port = 1; port < 3; port++) {
        json_t *stats = get_stats_at(p.port + port, "/stats");
        assert_int_equal(stats_int(stats, "answered", NULL), port + 1);
        assert_int_equal(stats_int(stats, "calls_total", NULL), 6);
        json_decref(stats);
    }
    assert_int_equal(calls_total_at(p.port, "/stats"), 6);
    assert_int_equal(proc_stop(&p, STOP_TIMEOUT_MS), 0);
}

/* ---- injected faults (faults.h) ---- */

/* One HTTP/1.1 GET on a new connection: the status, or -1 when the
 * connection was reset (ECONNRESET) or closed without an answer, or 0
 * when nothing came within wait_ms; *took_ms its time. */
static int fault_get(int port, const char *path, int wait_ms, double *took_ms)
{
    char req[256], resp[1024];
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    int fd = tcp_connect(port);
    assert_true(fd >= 0);
    double t0 = now_ms();
    send_text(fd, req, (size_t)len);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int status = 0;
    if (poll(&p, 1, wait_ms) == 1) {
        ssize_t n = recv(fd, resp, sizeof resp - 1, 0);
        if (n <= 0) {
            status = -1;
        } else {
            resp[n] = '\0';
            status = atoi(resp + strlen("HTTP/1.1 "));
        }
    }
    *took_ms = now_ms() - t0;
    close(fd);
    return status;
}

/* Per request by query, over HTTP/1.1: error is 500 after the delay,
 * reset a reset at the deadline, hang no answer at all (the client gives
 * up), jitter a delay within its share; bad rates are 400 at once. */
static void test_faults_query(void **state)
{
    (void)state;
    double ms;
    assert_int_equal(fault_get(slowapi.port, "/?delay=0.05&error=100", IO_TIMEOUT_MS, &ms), 500);
    assert_true(ms >= 50);
    assert_int_equal(fault_get(slowapi.port, "/?delay=0.05&reset=100", IO_TIMEOUT_MS, &ms), -1);
    assert_true(ms >= 50);
    assert_int_equal(fault_get(slowapi.port, "/?delay=0.01&hang=100", 300, &ms), 0);
    assert_int_equal(fault_get(slowapi.port, "/?delay=0.05&error=0&reset=0", IO_TIMEOUT_MS, &ms), 200);
    double lo = 1e9, hi = 0;
    for (int i = 0; i < 12; i++) {
        assert_int_equal(fault_get(slowapi.port, "/?delay=0.1&jitter=50", IO_TIMEOUT_MS, &ms), 200);
        lo = ms < lo ? ms : lo;
        hi = ms > hi ? ms : hi;
    }
    print_message("delay 0.1 s, jitter 50%%: %.1f to %.1f ms\n", lo, hi);
    assert_true(lo >= 50 && hi < 400 && hi - lo >= 5);
    static const char *const bad[] = {"/?error=101", "/?hang=-1", "/?jitter=x",
                                      "/?error=60&hang=50"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fault_get(slowapi.port, bad[i], IO_TIMEOUT_MS, &ms), 400);
    /* Still serving, and the server's own answers are unaffected. */
    assert_int_equal(fault_get(slowapi.port, "/?delay=0.01", IO_TIMEOUT_MS, &ms), 200);
}

/* Over h2c: error is a 500 on its stream, reset resets the stream (curl
 * reports an HTTP/2 stream error), hang leaves it unanswered (curl's
 * timeout); the connection's other streams are unaffected. */
static void test_faults_h2c(void **state)
{
    (void)state;
    h2_body_t body;
    assert_int_equal(h2_get("/?delay=0.02&error=100", &body), 500);
    static const struct {
        const char *path;
        CURLcode want;
    } cases[] = {{"/?delay=0.02&reset=100", CURLE_HTTP2_STREAM},
                 {"/?delay=0.01&hang=100", CURLE_OPERATION_TIMEDOUT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CURL *curl = h2_handle(slowapi.port, cases[i].path, &body);
        assert_int_equal(curl_easy_setopt(curl, CURLOPT_HTTP_VERSION,
                                          (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE),
                         CURLE_OK);
        assert_int_equal(curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 300L), CURLE_OK);
        CURLcode rc = curl_easy_perform(curl);
        print_message("h2c %s: %s\n", cases[i].path, curl_easy_strerror(rc));
        assert_int_equal(rc, cases[i].want);
        curl_easy_cleanup(curl);
    }
    assert_int_equal(h2_get("/?delay=0.01", &body), 200);
}

/* FAULTS for the whole process, drawn from FAULT_SEED: the same seed
 * gives the same statuses in the same order, another seed others. */
static void fault_sequence(const char *seed, char *out, size_t n)
{
    char seed_env[32];
    snprintf(seed_env, sizeof seed_env, "FAULT_SEED=%s", seed);
    const char *argv[] = {bin_path("slowapi"), "--host", "127.0.0.1", "--port", "0", NULL};
    const char *env[] = {"LOG_LEVEL=error", "FAULTS=error=50%", seed_env, NULL};
    proc_t p;
    assert_int_equal(proc_start(&p, argv, env, START_TIMEOUT_MS), 0);
    for (size_t i = 0; i + 1 < n; i++) {
        double ms;
        int status = fault_get(p.port, "/?delay=0", IO_TIMEOUT_MS, &ms);
        assert_true(status == 200 || status == 500);
        out[i] = status == 200 ? '.' : 'E';
    }
    out[n - 1] = '\0';
    assert_int_equal(proc_stop(&p, STOP_TIMEOUT_MS), 0);
}

/* STALL=0.3/0.5: the whole process stops 0.3 s every 0.5 s. Requests one
 * after another for 1.5 s: the one caught by a stall waits for its end
 * (at least 200 ms), the others are answered at once, and the process
 * still stops cleanly. */
static void test_stall(void **state)
{
    (void)state;
    const char *argv[] = {bin_path("slowapi"), "--host", "127.0.0.1", "--port", "0", NULL};
    const char *env[] = {"LOG_LEVEL=error", "STALL=0.3/0.5", NULL};
    proc_t p;
    assert_int_equal(proc_start(&p, argv, env, START_TIMEOUT_MS), 0);
    double start = now_ms(), slowest = 0, fastest = 1e9;
    int n = 0;
    while (now_ms() - start < 1500) {
        double ms;
        assert_int_equal(fault_get(p.port, "/healthz", IO_TIMEOUT_MS, &ms), 200);
        slowest = ms > slowest ? ms : slowest;
        fastest = ms < fastest ? ms : fastest;
        n++;
    }
    print_message("%d requests in 1.5 s: %.1f to %.1f ms\n", n, fastest, slowest);
    assert_true(slowest >= 200 && slowest < 1000);
    assert_true(fastest < 50);
    assert_int_equal(proc_stop(&p, STOP_TIMEOUT_MS), 0);
    const char *bad[] = {bin_path("slowapi"), "--stall", "0.5/0.5", NULL};
    assert_int_equal(run_status(bad, NULL), 2);
}

static void test_faults_seeded(void **state)
{
    (void)state;
    char a[41], b[41], c[41];
    fault_sequence("7", a, sizeof a);
    fault_sequence("7", b, sizeof b);
    fault_sequence("8", c, sizeof c);
    print_message("seed 7: %s\nseed 8: %s\n", a, c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_non_null(strchr(a, 'E'));
    assert_non_null(strchr(a, '.'));
}

int main(void)
{
    harness_filter_from_env();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_delay_timing),
        cmocka_unit_test(test_default_delay_is_one_second),
        cmocka_unit_test(test_concurrent_delays),
        cmocka_unit_test(test_never_early_and_stats),
        cmocka_unit_test(test_stats_reset),
        cmocka_unit_test(test_bad_delays),
        cmocka_unit_test(test_unknown_path_and_method),
        cmocka_unit_test(test_garbage_closes),
        cmocka_unit_test(test_header_too_large),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_close_after_answer),
        cmocka_unit_test(test_client_leaves_during_delay),
        cmocka_unit_test(test_sigterm),
        cmocka_unit_test(test_workers),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_faults_query),
        cmocka_unit_test(test_faults_seeded),
        cmocka_unit_test(test_stall),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_h2c_delay),
        cmocka_unit_test(test_h2c_multiplexed),
        cmocka_unit_test(test_h2c_errors),
        cmocka_unit_test(test_h2c_garbage_goaway),
        cmocka_unit_test(test_h2c_split_preface),
        cmocka_unit_test(test_h2c_upgrade_delay),
        cmocka_unit_test(test_h2c_upgrade_multiplexed),
        cmocka_unit_test(test_h2c_upgrade_pipelined),
        cmocka_unit_test(test_h2c_upgrade_bad_client),
        cmocka_unit_test(test_h2c_upgrade_refused),
        cmocka_unit_test(test_h2c_client_leaves),
        cmocka_unit_test(test_faults_h2c),
        cmocka_unit_test(test_h2c_sigterm),
        cmocka_unit_test(test_calls_total),
        cmocka_unit_test(test_calls_total_workers),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
