/* loadgen/http_worker.c and run.c against a scripted server in this process:
 * every way a response can end (length, chunked, EOF, Connection: close),
 * every error bucket, timeouts, the drain, the warm-up, -n exactness, the
 * connect backoff and a stop signal. The server answers according to
 * g_mode; its delays simulate a slow upstream, they synchronise nothing. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net.h"
#include "run.h"
#include "stats.h"
#include "url.h"

enum mode {
    M_OK,            /* 200 with Content-Length, kept alive */
    M_CHUNKED,       /* 200 chunked, kept alive */
    M_EOF_BODY,      /* HTTP/1.0, no length: the body ends at EOF */
    M_CLOSE_HEADER,  /* Connection: close, then close */
    M_502,           /* 502, kept alive */
    M_JUNK,          /* not HTTP */
    M_CUT,           /* Content-Length 10, 3 bytes, close */
    M_SILENT,        /* reads the request, never answers */
    M_DELAY_100MS,   /* 200 after 100 ms */
    M_SPLIT,         /* 200 written one byte per send */
    M_TRAILING_JUNK, /* 200 and 3 bytes more */
};

static _Atomic int g_mode;
static _Atomic int g_accepted;
static _Atomic int g_requests;
static int g_live; /* handler threads alive, under g_lock */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static char g_last_request[1024];

typedef struct server {
    int fd;
    int port;
    pthread_t thread;
} server_t;

static int send_str(int fd, const char *s) { return net_send_all(fd, s, strlen(s)); }

static void pause_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Answer one request; 0 when the connection is to be closed. */
static int respond(int fd)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    switch (atomic_load(&g_mode)) {
    case M_OK:
        return send_str(fd, ok) == 0;
    case M_CHUNKED:
        return send_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n") == 0;
    case M_EOF_BODY:
        (void)send_str(fd, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
        return 0;
    case M_CLOSE_HEADER:
        (void)send_str(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
        return 0;
    case M_502:
        return send_str(fd, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n") == 0;
    case M_JUNK:
        return send_str(fd, "HELLO WORLD\r\n\r\n") == 0;
    case M_CUT:
        (void)send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        return 0;
    case M_SILENT:
        return 1;
    case M_DELAY_100MS:
        pause_ms(100);
        return send_str(fd, ok) == 0;
    case M_SPLIT:
        for (size_t i = 0; i < sizeof ok - 1; i++) {
            if (net_send_all(fd, ok + i, 1) < 0)
                return 0;
        }
        return 1;
    case M_TRAILING_JUNK:
        return send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokXYZ") == 0;
    }
    return 0;
}

static void *handler(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[2048];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end == NULL) {
            if (len == sizeof buf - 1)
                break;
            continue;
        }
        size_t req_len = (size_t)(end + 4 - buf);
        pthread_mutex_lock(&g_lock);
        snprintf(g_last_request, sizeof g_last_request, "%.*s", (int)req_len, buf);
        pthread_mutex_unlock(&g_lock);
        atomic_fetch_add(&g_requests, 1);
        memmove(buf, buf + req_len, len - req_len);
        len -= req_len;
        if (!respond(fd))
            break;
    }
    close(fd);
    pthread_mutex_lock(&g_lock);
    g_live--;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

static void *acceptor(void *arg)
{
    server_t *s = arg;
    for (;;) {
        int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break; /* shutdown() by server_stop */
        }
        atomic_fetch_add(&g_accepted, 1);
        int one = 1;
        (void)setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        pthread_mutex_lock(&g_lock);
        g_live++;
        pthread_mutex_unlock(&g_lock);
        if (pthread_create(&t, NULL, handler, (void *)(intptr_t)c) != 0) {
            close(c);
            pthread_mutex_lock(&g_lock);
            g_live--;
            pthread_mutex_unlock(&g_lock);
            continue;
        }
        pthread_detach(t);
    }
    return NULL;
}

static int server_setup(void **state)
{
    server_t *s = calloc(1, sizeof *s);
    char err[NET_ERR_LEN];
    if (s == NULL)
        return -1;
    s->fd = net_listen_tcp("127.0.0.1", 0, 1024, 0, 0, err);
    if (s->fd < 0)
        return -1;
    s->port = net_local_port(s->fd);
    atomic_store(&g_mode, M_OK);
    atomic_store(&g_accepted, 0);
    atomic_store(&g_requests, 0);
    if (pthread_create(&s->thread, NULL, acceptor, s) != 0)
        return -1;
    *state = s;
    return 0;
}

static int server_teardown(void **state)
{
    server_t *s = *state;
    (void)shutdown(s->fd, SHUT_RDWR);
    pthread_join(s->thread, NULL);
    close(s->fd);
    /* Handlers end when loadgen's sockets close (it closes all at the end). */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    pthread_mutex_lock(&g_lock);
    int rc = 0;
    while (g_live > 0 && rc == 0)
        rc = pthread_cond_timedwait(&g_cond, &g_lock, &deadline);
    int live = g_live;
    pthread_mutex_unlock(&g_lock);
    free(s);
    return live == 0 ? 0 : -1;
}

static void config(lg_config_t *cfg, int port, long c, long t)
{
    lg_run_config_defaults(cfg);
    cfg->connections = c;
    cfg->threads = t;
    cfg->duration_s = 5;
    cfg->timeout_s = 5;
    cfg->drain_s = 1;
    char url[64], err[LG_ERR_MAX];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);
    assert_int_equal(lg_url_parse(url, &cfg->url, err, sizeof err), 0);
    assert_int_equal(lg_url_resolve(&cfg->url, err, sizeof err), 0);
}

static void run(const lg_config_t *cfg, lg_run_result_t *res)
{
    char err[512];
    if (lg_run_load(cfg, -1, res, err, sizeof err) < 0)
        fail_msg("lg_run_load: %s", err);
    if (!lg_buckets_balanced(&res->stats.buckets, 0))
        fail_msg("unbalanced: issued %llu, ended %llu",
                 (unsigned long long)res->stats.buckets.issued,
                 (unsigned long long)lg_buckets_ended(&res->stats.buckets));
}

static uint64_t err_count(const lg_run_result_t *r, enum lg_outcome o)
{
    return r->stats.buckets.errors[LG_ERR_INDEX(o)];
}

/* -n N with a kept-alive server: exactly N, one connection each. */
static void run_ok_mode(server_t *s, int mode, long n, long c, long t, int keepalive)
{
    lg_config_t cfg;
    lg_run_result_t r;
    atomic_store(&g_mode, mode);
    config(&cfg, s->port, c, t);
    cfg.requests = n;
    cfg.keepalive = keepalive;
    run(&cfg, &r);
    assert_int_equal(r.stats.buckets.issued, n);
    assert_int_equal(r.stats.buckets.ok, n);
    assert_int_equal(r.stats.count, n);
    assert_int_equal(lg_buckets_failures(&r.stats.buckets), 0);
    assert_int_equal(atomic_load(&g_requests), n);
    lg_stats_free(&r.stats);
}

static void test_keepalive_exact_count(void **state)
{
    server_t *s = *state;
    /* 1001 over 7 connections in 3 threads: uneven on purpose. */
    run_ok_mode(s, M_OK, 1001, 7, 3, 1);
    /* Kept alive: at most one connection each (a thread that starts late
     * may find the 1001 requests all taken by the others). */
    assert_in_range(atomic_load(&g_accepted), 1, 7);
    pthread_mutex_lock(&g_lock);
    assert_non_null(strstr(g_last_request, "GET /x HTTP/1.1\r\nHost: 127.0.0.1:"));
    assert_null(strstr(g_last_request, "Connection"));
    pthread_mutex_unlock(&g_lock);
}

static void test_fewer_requests_than_connections(void **state)
{
    run_ok_mode(*state, M_OK, 3, 8, 2, 1);
}

static void test_chunked(void **state)
{
    run_ok_mode(*state, M_CHUNKED, 50, 2, 1, 1);
    assert_int_equal(atomic_load(&g_accepted), 2);
}

static void test_split_response(void **state)
{
    run_ok_mode(*state, M_SPLIT, 30, 2, 2, 1);
    assert_in_range(atomic_load(&g_accepted), 1, 2);
}

static void test_body_until_eof(void **state)
{
    run_ok_mode(*state, M_EOF_BODY, 20, 2, 1, 1);
    assert_int_equal(atomic_load(&g_accepted), 20);
}

static void test_connection_close_header(void **state)
{
    run_ok_mode(*state, M_CLOSE_HEADER, 20, 2, 1, 1);
    assert_int_equal(atomic_load(&g_accepted), 20);
}

static void test_trailing_junk_drops_connection(void **state)
{
    run_ok_mode(*state, M_TRAILING_JUNK, 10, 1, 1, 1);
    assert_int_equal(atomic_load(&g_accepted), 10);
}

static void test_no_keepalive(void **state)
{
    run_ok_mode(*state, M_OK, 25, 3, 1, 0);
    assert_int_equal(atomic_load(&g_accepted), 25);
    pthread_mutex_lock(&g_lock);
    assert_non_null(strstr(g_last_request, "\r\nConnection: close\r\n\r\n"));
    pthread_mutex_unlock(&g_lock);
}

static void test_http_errors(void **state)
{
    server_t *s = *state;
    lg_config_t cfg;
    lg_run_result_t r;
    atomic_store(&g_mode, M_502);
    config(&cfg, s->port, 3, 1);
    cfg.requests = 30;
    run(&cfg, &r);
    assert_int_equal(r.stats.buckets.http_status[502], 30);
    assert_int_equal(r.stats.buckets.ok, 0);
    assert_int_equal(r.stats.count, 30); /* http errors have latencies too */
    assert_int_equal(atomic_load(&g_accepted), 3);
    lg_stats_free(&r.stats);
}

static void test_parse_and_read_errors(void **state)
{
    server_t *s = *state;
    lg_config_t cfg;
    lg_run_result_t r;
    atomic_store(&g_mode, M_JUNK);
    config(&cfg, s->port, 2, 1);
    cfg.requests = 10;
    run(&cfg, &r);
    assert_int_equal(err_count(&r, LG_OUTCOME_ERR_PARSE), 10);
    assert_int_equal(r.stats.count, 0);
    lg_stats_free(&r.stats);

    atomic_store(&g_mode, M_CUT);
    run(&cfg, &r);
    assert_int_equal(err_count(&r, LG_OUTCOME_ERR_READ), 10);
    assert_int_equal(lg_buckets_failures(&r.stats.buckets), 10);
    lg_stats_free(&r.stats);
}

/* Requests time out at 0.3 s and reconnect; the load ends at 0.5 s and the
 * drain at 0.55 s cuts the second round: one timeout and one unfinished
 * per connection. No ok response came in the drain, so the window ends
 * with the load, not with the drain. */
static void test_timeout_then_unfinished(void **state)
{
    server_t *s = *state;
    lg_config_t cfg;
    lg_run_result_t r;
    atomic_store(&g_mode, M_SILENT);
    config(&cfg, s->port, 4, 2);
    cfg.duration_s = 0.5;
    cfg.timeout_s = 0.3;
    cfg.drain_s = 0.05;
    run(&cfg, &r);
    assert_int_equal(r.stats.buckets.issued, 8);
    assert_int_equal(r.stats.buckets.timeouts, 4);
    assert_int_equal(r.stats.buckets.unfinished, 4);
    assert_int_equal(r.stats.buckets.ok, 0);
    assert_int_equal(atomic_load(&g_accepted), 8);
    /* From the first issue (just after the start) to the load's end. */
    assert_true(r.duration_s > 0.49 && r.duration_s <= 0.5);
    lg_stats_free(&r.stats);
}

/* 100 ms requests for 0.35 s: the round issued at 0.3 s finishes in the
 * drain. The window is the load's 0.35 s, and that round counts for its
 * half inside it: 7 ok in the window, rps 20 (the clients' true rate), not
 * 8 / 0.35 nor 6 / 0.35. */
static void test_drain_lets_last_round_finish(void **state)
{
    server_t *s = *state;
    lg_config_t cfg;
    lg_run_result_t r;
    atomic_store(&g_mode, M_DELAY_100MS);
    config(&cfg, s->port, 2, 1);
    cfg.duration_s = 0.35;
    run(&cfg, &r);
    assert_int_equal(r.stats.buckets.issued, 8);
    assert_int_equal(r.stats.buckets.ok, 8);
    assert_int_equal(r.stats.buckets.unfinished, 0);
    assert_true(fabs(r.duration_s - 0.35) < 1e-6);
    /* 100 ms plus a little per request: slightly under 7. */
    assert_true(r.stats.ok_in_window > 6.5 && r.stats.ok_in_window <= 7.0);
    /* Each latency is the 100 ms delay plus little. */
    assert_true(r.stats.latency_ns[0] >= 100 * NS_PER_MS);
    assert_true(r.stats.max_ns < 150 * NS_PER_MS);
    lg_stats_free(&r.stats);
}

/* 100 ms requests, warm-up 0.25 s of 0.5 s: those issued at 0, 0.1, 0.2
 * are left out of the samples, those at 0.3 and 0.4 counted. The window
 * is 0.25 .. 0.5 s; the request of 0.2 .. 0.3 s counts for its half in
 * it, so 2.5 ok in the window: rps 10, the client's true rate. */
static void test_warmup(void **state)
{
    server_t *s = *state;
    lg_config_t cfg;
    lg_run_result_t r;
    atomic_store(&g_mode, M_DELAY_100MS);
    config(&cfg, s->port, 1, 1);
    cfg.duration_s = 0.5;
    cfg.warmup_s = 0.25;
    run(&cfg, &r);
    assert_int_equal(r.stats.buckets.warmup_excluded, 3);
    assert_int_equal(r.stats.buckets.issued, 2);
    assert_int_equal(r.stats.buckets.ok, 2);
    assert_int_equal(r.stats.count, 2);
    assert_true(fabs(r.duration_s - 0.25) < 1e-6);
    assert_true(r.stats.ok_in_window > 2.3 && r.stats.ok_in_window <= 2.5);
    /* The warm-up's answers are in no bucket, but slowapi's counter saw
     * their calls: --upstream's "answered" counts them. */
    assert_int_equal(r.stats.buckets.warmup_responses, 3);
    assert_int_equal(lg_stats_answered(&r.stats), 5);
    lg_stats_free(&r.stats);
}

/* --progress-file: the run writes it as it starts and with phase "done"
 * at the end, the counts then final. */
static void test_progress_file(void **state)
{
    server_t *s = *state;
    lg_config_t cfg;
    lg_run_result_t r;
    char dir[] = "/tmp/test_loadgen_worker.XXXXXX", path[PATH_MAX], line[512] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/progress.json", dir);
    atomic_store(&g_mode, M_DELAY_100MS);
    config(&cfg, s->port, 2, 1);
    cfg.duration_s = 0.35;
    cfg.progress_path = path;
    run(&cfg, &r);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(line, sizeof line, fp));
    fclose(fp);
    assert_memory_equal(line, "{\"phase\":\"done\",\"elapsed_s\":", 28);
    assert_non_null(strstr(line, "\"requests\":null,\"issued\":8,\"done\":8,\"ok\":8,"
                                 "\"errors\":0,"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0); /* nothing else left in it */
    lg_stats_free(&r.stats);
}

/* --ramp 0.4 with 4 connections: they start at 0, 0.1, 0.2 and 0.3 s, and
 * with 100 ms requests over 0.5 s issue 5 + 4 + 3 + 2 requests. */
static void test_ramp(void **state)
{
    server_t *s = *state;
    lg_config_t cfg;
    lg_run_result_t r;
    atomic_store(&g_mode, M_DELAY_100MS);
    config(&cfg, s->port, 4, 2);
    cfg.duration_s = 0.5;
    cfg.ramp_s = 0.4;
    run(&cfg, &r);
    assert_int_equal(r.stats.buckets.issued, 14);
    assert_int_equal(r.stats.buckets.ok, 14);
    assert_int_equal(atomic_load(&g_accepted), 4);
    lg_stats_free(&r.stats);
}

/* A refused port: every request is a connect error, retried after the
 * backoff rather than in a busy loop. */
static void test_connect_refused_backs_off(void **state)
{
    (void)state;
    char err[NET_ERR_LEN];
    int fd = net_listen_tcp("127.0.0.1", 0, 1, 0, 0, err);
    assert_true(fd >= 0);
    int port = net_local_port(fd);
    close(fd); /* nothing listens there now */
    lg_config_t cfg;
    lg_run_result_t r;
    config(&cfg, port, 1, 1);
    cfg.requests = 6;
    uint64_t t0 = clock_now_ns();
    run(&cfg, &r);
    uint64_t elapsed = clock_now_ns() - t0;
    assert_int_equal(err_count(&r, LG_OUTCOME_ERR_CONNECT), 6);
    assert_true(elapsed >= 5 * LG_CONNECT_BACKOFF_NS);
    lg_stats_free(&r.stats);

    /* By duration: bounded number of attempts (about one per backoff). */
    config(&cfg, port, 2, 1);
    cfg.duration_s = 0.2;
    run(&cfg, &r);
    uint64_t n = err_count(&r, LG_OUTCOME_ERR_CONNECT);
    assert_true(n >= 2 && n <= 2 * (200 / 10 + 2));
    assert_int_equal(r.stats.buckets.issued, n);
    lg_stats_free(&r.stats);
}

static void *send_signal_later(void *arg)
{
    (void)arg;
    pause_ms(250);
    kill(getpid(), SIGUSR1);
    return NULL;
}

/* A stop signal in -n mode: no new requests, the ones in flight finish in
 * the drain, the results are all there. */
static void test_stop_signal_drains(void **state)
{
    server_t *s = *state;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    int sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    assert_true(sig_fd >= 0);
    lg_config_t cfg;
    lg_run_result_t r;
    atomic_store(&g_mode, M_DELAY_100MS);
    config(&cfg, s->port, 3, 1);
    cfg.requests = 1000000;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, send_signal_later, NULL), 0);
    char err[256];
    assert_int_equal(lg_run_load(&cfg, sig_fd, &r, err, sizeof err), 0);
    pthread_join(t, NULL);
    close(sig_fd);
    assert_int_equal(r.stop_level, 1);
    assert_true(lg_buckets_balanced(&r.stats.buckets, 0));
    assert_int_equal(r.stats.buckets.unfinished, 0);
    /* About 3 rounds of 3 before the signal at 0.25 s. */
    assert_true(r.stats.buckets.ok >= 6 && r.stats.buckets.ok <= 12);
    assert_int_equal(r.stats.buckets.ok, r.stats.buckets.issued);
    lg_stats_free(&r.stats);
}

int main(void)
{
    /* SIGUSR1 goes to the signalfd only: block it before any thread. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
#define T(f) cmocka_unit_test_setup_teardown(f, server_setup, server_teardown)
    const struct CMUnitTest tests[] = {
        T(test_keepalive_exact_count),
        T(test_fewer_requests_than_connections),
        T(test_chunked),
        T(test_split_response),
        T(test_body_until_eof),
        T(test_connection_close_header),
        T(test_trailing_junk_drops_connection),
        T(test_no_keepalive),
        T(test_http_errors),
        T(test_parse_and_read_errors),
        T(test_timeout_then_unfinished),
        T(test_drain_lets_last_round_finish),
        T(test_warmup),
        T(test_progress_file),
        T(test_ramp),
        cmocka_unit_test(test_connect_refused_backs_off),
        T(test_stop_signal_drains),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
