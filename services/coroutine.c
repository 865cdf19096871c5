/* coroutine: handlers in blocking style, run as coroutines over one libuv
 * loop. The gevent analogue.
 *
 * Each connection is a coroutine (services/core/coro.c: a stack of its
 * own) running the very handler the thread models run, blocking_conn_run:
 * read a request, call the fan-out, write the answer. Its I/O calls park
 * the coroutine rather than the thread (services/core/coro_io.c): when it
 * would block, the loop runs others; when its socket is ready, or the
 * last of its fan-out's calls is back, the loop resumes it where it
 * stopped. The handler does not know that it is asynchronous: gevent's
 * monkey patching, in spirit. Reading this file beside event_loop.c shows
 * the same loop with the state machine moved onto stacks.
 *
 * At most CONNECTIONS coroutines per process (uwsgi's --gevent N,
 * gunicorn's worker_connections, 1000 by default). At the limit the loop
 * stops accepting: further connections wait in the listen queue until a
 * coroutine ends, then are served, never refused. Capacity is CONNECTIONS
 * x WORKERS; the ceiling min(c, capacity) / delay. Connections are kept
 * alive, as gevent's servers do, except when more connections wait in
 * the listen queue than there are free places: then an answered
 * connection closes so that its place goes to the next in the queue. Otherwise kept-alive clients would hold every
 * place and the waiting ones would starve (the thread pools close every
 * connection for the same reason).
 *
 * Processes as in event_loop.c: with WORKERS > 1 or --master they run
 * under the master of supervisor.c; one process alone has none. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "blocking_conn.h"
#include "coro.h"
#include "coro_io.h"
#include "fanout.h"
#include "log.h"
#include "net.h"
#include "server.h"
#include "supervisor.h"

/* Connections accepted per turn of the loop, so that a burst of them does
 * not hold up the timers and wake-ups that are due. */
#define ACCEPT_BATCH 32
/* When accept fails for want of descriptors or memory, try again after
 * this long (or when a connection ends); the queue keeps the connection. */
#define ACCEPT_RETRY_MS 100

static const variant_t VARIANT = {
    .name = "coroutine",
    .model = "coroutines over one libuv event loop; handlers in blocking style",
    .keep_alive = 1,
    .connections = 1000,
    .settings = SETTINGS_HTTP | SETTINGS_WORKERS | SETTINGS_CONNECTIONS | SETTINGS_GRACE,
};

/* A connection: its coroutine's frame holds it. */
typedef struct conn_s {
    coro_sock_t sock;
    struct conn_s *prev, *next; /* on conns, for a graceful stop */
} conn_t;

static server_config_t cfg;
static uv_loop_t *loop;
static fanout_loop_t *fanout;
static int listen_fd = -1;
static uv_poll_t listener;     /* listen_fd, watched while there is room */
static uv_timer_t accept_retry;
static uv_signal_t sigterm, sigint;
static conn_t *conns;
static int live;               /* coroutines serving a connection */
static int accepting;
static int stopping;
static unsigned long conn_count;

/* ---- the handler's I/O: calls that park the coroutine ---- */

static ssize_t conn_recv(void *ctx, void *buf, size_t len)
{
    return coro_sock_recv(&((conn_t *)ctx)->sock, buf, len, cfg.client_timeout_ms);
}

static int conn_send(void *ctx, const void *buf, size_t len)
{
    return coro_sock_send(&((conn_t *)ctx)->sock, buf, len, cfg.client_timeout_ms);
}

static int conn_peer_gone(void *ctx)
{
    return net_peer_gone(((conn_t *)ctx)->sock.fd);
}

static void conn_fanout(void *ctx, fanout_result_t *res)
{
    (void)ctx;
    coro_fanout(fanout, res);
}

/* Keep the connection unless stopping, or unless more connections wait in
 * the listen queue than there are free places: then this one closes so
 * that its place goes to a waiting one. Counting the free places (not
 * asking "at the limit?") matters when several answers go out in one turn
 * of the loop: a place freed by the first is refilled only on the next
 * turn, and the others must not take it for room. */
static int conn_may_keep(void *ctx)
{
    (void)ctx;
    if (stopping)
        return 0;
    int waiting = net_listen_queue_length(listen_fd);
    if (waiting < 0) { /* the kernel does not say: readable means some wait */
        struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
        waiting = poll(&pfd, 1, 0) > 0 ? cfg.connections : 0;
    }
    return waiting <= cfg.connections - live;
}

static void conn_close(void *ctx, int linger)
{
    conn_t *c = ctx;
    char sink[4096];
    if (linger && shutdown(c->sock.fd, SHUT_WR) == 0)
        while (coro_sock_recv(&c->sock, sink, sizeof sink, CONN_LINGER_MS) > 0)
            ;
    coro_sock_close(&c->sock);
}

static const blocking_io_t conn_io = {
    .recv = conn_recv,
    .send = conn_send,
    .peer_gone = conn_peer_gone,
    .fanout = conn_fanout,
    .may_keep = conn_may_keep,
    .close = conn_close,
};

/* ---- accepting, within the limit ---- */

static void accept_cb(uv_poll_t *poll, int status, int events);

static void start_accepting(void)
{
    int rc = uv_poll_start(&listener, UV_READABLE, accept_cb);
    if (rc != 0)
        log_error("watching the listening socket: %s", uv_strerror(rc));
    accepting = rc == 0;
}

static void stop_accepting(void)
{
    (void)uv_poll_stop(&listener);
    accepting = 0;
}

static void accept_retry_cb(uv_timer_t *timer)
{
    (void)timer;
    if (!stopping && !accepting && live < cfg.connections)
        start_accepting();
}

/* Stopping, with no connection left: close the fan-out driver (on the
 * loop's next turn: the last coroutine may end in its fan-out's wake-up). */
static void close_when_idle(void)
{
    if (stopping && live == 0)
        fanout_loop_close_soon(fanout);
}

static void conn_main(void *arg)
{
    conn_t c;
    int fd = (int)(intptr_t)arg, one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        log_warn("setsockopt(TCP_NODELAY): %s", strerror(errno));
    int rc = coro_sock_open(&c.sock, loop, fd);
    if (rc == 0) {
        c.prev = NULL;
        c.next = conns;
        if (conns != NULL)
            conns->prev = &c;
        conns = &c;
        blocking_conn_run(&conn_io, &c, VARIANT.keep_alive);
        if (c.prev != NULL)
            c.prev->next = c.next;
        else
            conns = c.next;
        if (c.next != NULL)
            c.next->prev = c.prev;
    } else {
        log_warn("cannot watch a connection: %s", uv_strerror(rc));
    }
    live--;
    if (stopping)
        close_when_idle();
    else if (!accepting)
        start_accepting(); /* a place is free (or resources, perhaps) */
}

static void spawn(int fd)
{
    char name[CORO_NAME_MAX];
    snprintf(name, sizeof name, "conn %lu", ++conn_count);
    coro_t *co = coro_new(name, 0, conn_main, (void *)(intptr_t)fd);
    if (co == NULL) {
        log_error("no coroutine for a connection: %s", strerror(errno));
        (void)close(fd);
        return;
    }
    live++;
    coro_io_wake(co); /* runs until it first parks */
}

static void accept_cb(uv_poll_t *poll, int status, int events)
{
    (void)poll;
    (void)events;
    if (status < 0) {
        log_error("listening socket: %s", uv_strerror(status));
        return;
    }
    for (int i = 0; i < ACCEPT_BATCH && live < cfg.connections; i++) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            spawn(fd);
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return; /* another worker took it, or the queue is empty */
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        log_warn("accept: %s", strerror(errno));
        stop_accepting();
        if (uv_timer_start(&accept_retry, accept_retry_cb, ACCEPT_RETRY_MS, 0) != 0)
            log_error("cannot schedule accepting again");
        return;
    }
    if (live >= cfg.connections)
        stop_accepting(); /* the rest wait in the listen queue */
}

/* ---- stopping ---- */

/* Stop accepting; idle connections (parked waiting for a request) close
 * now, those in a request answer it first (with Connection: close). The
 * loop ends when the last coroutine and the fan-out driver are gone. */
static void stop_cb(uv_signal_t *sig, int signum)
{
    (void)sig;
    log_info("signal %d: stopping", signum);
    stopping = 1;
    uv_close((uv_handle_t *)&listener, NULL);
    (void)close(listen_fd); /* this process's copy; a master keeps its own */
    uv_close((uv_handle_t *)&accept_retry, NULL);
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_close((uv_handle_t *)&sigint, NULL);
    conn_t *next;
    for (conn_t *c = conns; c != NULL; c = next) {
        next = c->next; /* c runs now, but only until it parks in its close */
        if (coro_sock_reading(&c->sock))
            coro_sock_cancel(&c->sock);
    }
    close_when_idle();
}

/* ---- start-up ---- */

/* Serve on fd (non-blocking, listening) until SIGTERM or SIGINT; returns
 * the exit status. in_worker: under the master, which waits for us. */
static int serve(int fd, int in_worker)
{
    listen_fd = fd;
    loop = uv_default_loop();
    int rc = coro_thread_init();
    if (rc != 0) {
        log_error("coroutines: %s", strerror(-rc));
        return 1;
    }
    fanout = fanout_loop_new(loop, &cfg);
    if (fanout == NULL) {
        log_error("cannot set up the upstream client");
        return 1;
    }
    if ((rc = uv_poll_init(loop, &listener, fd)) != 0 ||
        (rc = uv_timer_init(loop, &accept_retry)) != 0 ||
        (rc = uv_signal_init(loop, &sigterm)) != 0 ||
        (rc = uv_signal_start(&sigterm, stop_cb, SIGTERM)) != 0 ||
        (rc = uv_signal_init(loop, &sigint)) != 0 ||
        (rc = uv_signal_start(&sigint, stop_cb, SIGINT)) != 0) {
        log_error("libuv set-up: %s", uv_strerror(rc));
        return 1;
    }
    start_accepting();
    if (!accepting)
        return 1;
    rc = supervisor_run_loop(loop, in_worker);
    coro_thread_cleanup();
    curl_global_cleanup();
    return rc;
}

int main(int argc, char **argv)
{
    server_config_load(&cfg, &VARIANT, argc, argv);
    server_capacity = cfg.connections * cfg.workers;
    return supervisor_main(&cfg, serve);
}
