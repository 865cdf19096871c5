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
 * The loop, its fan-out driver, accepting and the stop signals are the
 * loop host's (services/core/loop_host.c), as for event_loop.c: it hands
 * this file each accepted socket (conn_cb), which becomes a coroutine,
 * and on a stop asks it to wake the coroutines waiting for a request
 * (stop_cb), which then close.
 *
 * At most CONNECTIONS coroutines per process (uwsgi's --gevent N,
 * gunicorn's worker_connections, 1000 by default): the host's limit. At
 * the limit it stops accepting: further connections wait in the listen
 * queue until a coroutine ends, then are served, never refused. Capacity
 * is CONNECTIONS x WORKERS; the ceiling min(c, capacity) / delay.
 * Connections are kept alive, as gevent's servers do, except when more
 * connections wait in the listen queue than there are free places: then
 * an answered connection closes so that its place goes to the next in the
 * queue. Otherwise kept-alive clients would hold every place and the
 * waiting ones would starve (the thread pools close every connection for
 * the same reason).
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

#include <uv.h>

#include "blocking_conn.h"
#include "coro.h"
#include "coro_io.h"
#include "fanout.h"
#include "log.h"
#include "loop_host.h"
#include "net.h"
#include "server.h"

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
static conn_t *conns;
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
    coro_fanout(loop_host_fanout(), res);
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
    if (loop_host_stopping())
        return 0;
    int listen_fd = loop_host_listen_fd();
    int waiting = net_listen_queue_length(listen_fd);
    if (waiting < 0) { /* the kernel does not say: readable means some wait */
        struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
        waiting = poll(&pfd, 1, 0) > 0 ? cfg.connections : 0;
    }
    return waiting <= cfg.connections - loop_host_live();
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

/* ---- a connection: a coroutine ---- */

static void conn_main(void *arg)
{
    conn_t c;
    int fd = (int)(intptr_t)arg, one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        log_warn("setsockopt(TCP_NODELAY): %s", strerror(errno));
    int rc = coro_sock_open(&c.sock, loop_host_loop(), fd);
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
    loop_host_conn_ended();
}

/* The loop host's: a connection was accepted; its coroutine runs until
 * it first parks. */
static int conn_cb(int fd)
{
    char name[CORO_NAME_MAX];
    snprintf(name, sizeof name, "conn %lu", ++conn_count);
    coro_t *co = coro_new(name, 0, conn_main, (void *)(intptr_t)fd);
    if (co == NULL)
        return -errno;
    coro_io_wake(co);
    return 0;
}

/* The loop host's, on a stop: idle connections (parked waiting for a
 * request) close now, those in a request answer it first (with
 * Connection: close). */
static void stop_cb(void)
{
    conn_t *next;
    for (conn_t *c = conns; c != NULL; c = next) {
        next = c->next; /* c runs now, but only until it parks in its close */
        if (coro_sock_reading(&c->sock))
            coro_sock_cancel(&c->sock);
    }
}

int main(int argc, char **argv)
{
    server_config_load(&cfg, &VARIANT, argc, argv);
    server_capacity = cfg.connections * cfg.workers;
    /* Before any fork: the workers inherit the overflow handler. */
    int rc = coro_thread_init();
    if (rc != 0) {
        log_error("coroutines: %s", strerror(-rc));
        return 1;
    }
    loop_host_model_t model = {.conn_cb = conn_cb, .stop_cb = stop_cb,
                               .max_connections = cfg.connections};
    rc = loop_host_run(&cfg, &model);
    coro_thread_cleanup();
    return rc;
}
