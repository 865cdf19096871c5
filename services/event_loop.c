/* event-loop: one thread, one libuv loop, everything non-blocking.
 *
 * The FastAPI + uvicorn analogue. A connection is a small state machine
 * driven by callbacks: bytes arrive (read_cb) and go to the parser; a
 * whole request starts its fan-out without waiting (the upstream calls
 * are curl transfers on the same loop), and the answer is written when the
 * last call ends (io_done_cb). Nothing ever blocks, so one thread holds
 * every connection at once: capacity is unbounded, the ceiling c/delay.
 *
 * The loop itself, its fan-out driver, accepting and the stop signals are
 * the loop host's (services/core/loop_host.c), shared with coroutine.c:
 * it hands this file each accepted socket (conn_cb), which libuv adopts
 * (uv_tcp_open), and on a stop asks it to close its idle connections
 * (stop_cb). Accepting has no limit here: every connection is served.
 *
 * Several processes (WORKERS, or --master) run under the master of
 * supervisor.c, each with a loop of its own, as uvicorn --workers and
 * gunicorn's uvicorn workers do: ACCEPT=reuseport gives each worker a
 * socket of its own on the port (the kernel spreads connections by a hash),
 * ACCEPT=shared one inherited socket that every loop watches (whichever
 * wakes first accepts). One process alone has no master: it listens itself,
 * with SO_REUSEPORT, and stops on its own signals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "fanout.h"
#include "http_request.h"
#include "log.h"
#include "loop_host.h"
#include "routes.h"
#include "server.h"

#define CONN_BUF_BYTES (HTTP_MAX_HEADER_BYTES + 8192)
#define READ_CHUNK_BYTES 65536
#define LINGER_MS 200

static const variant_t VARIANT = {
    .name = "event-loop",
    .model = "one thread runs one libuv event loop; all I/O non-blocking",
    .keep_alive = 1, /* uvicorn keeps HTTP/1.1 connections alive */
    .settings = SETTINGS_HTTP | SETTINGS_WORKERS | SETTINGS_GRACE,
};

typedef struct conn_s {
    uv_tcp_t tcp;
    uv_timer_t timer;   /* client timeout, then lingering close */
    uv_write_t write;
    uv_shutdown_t shutdown;
    http_request_t req;
    response_t res;
    int refs;           /* the two handles + a fan-out in flight */
    int busy;           /* a request is being served: parse no further */
    int keep;           /* keep the connection after this answer */
    int closing;
    int read_paused;    /* buf is full: the client waits until it drains */
    size_t have;        /* bytes in buf not yet parsed */
    char buf[CONN_BUF_BYTES];
} conn_t;

static server_config_t cfg;

static void process_input(conn_t *c);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void conn_unref(conn_t *c)
{
    if (--c->refs > 0)
        return;
    free(c);
    loop_host_conn_ended();
}

static void handle_closed_cb(uv_handle_t *h) { conn_unref(h->data); }

static void conn_close(conn_t *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, handle_closed_cb);
    uv_close((uv_handle_t *)&c->timer, handle_closed_cb);
}

static void linger_done_cb(uv_timer_t *t) { conn_close(t->data); }

static void shutdown_cb(uv_shutdown_t *s, int status)
{
    conn_t *c = s->data;
    /* Keep reading (and discarding) briefly so closing does not reset the
     * connection before the client has read the error answer. */
    if (status < 0 || uv_timer_start(&c->timer, linger_done_cb, LINGER_MS, 0) != 0)
        conn_close(c);
}

static void write_cb(uv_write_t *w, int status)
{
    conn_t *c = w->data;
    c->busy = 0;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (!c->keep || loop_host_stopping()) {
        c->shutdown.data = c;
        if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, shutdown_cb) != 0)
            conn_close(c);
        return;
    }
    http_request_reset(&c->req);
    process_input(c); /* a pipelined request may be waiting */
}

static void send_response(conn_t *c)
{
    uv_buf_t buf = uv_buf_init(c->res.buf, (unsigned)c->res.len);
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1, write_cb) != 0)
        conn_close(c);
}

static void io_done_cb(void *arg, const fanout_result_t *result)
{
    conn_t *c = arg;
    if (!c->closing) {
        respond_io(&c->res, result, c->keep);
        send_response(c);
    }
    conn_unref(c); /* the fan-out's reference */
}

static void client_timeout_cb(uv_timer_t *t)
{
    conn_t *c = t->data;
    if (c->busy)
        return;
    if (c->req.header_bytes + c->req.raw_header_bytes == 0) {
        conn_close(c); /* idle keep-alive connection */
        return;
    }
    c->busy = 1;
    c->keep = 0;
    respond_client_timeout(&c->res);
    send_response(c);
}

static void dispatch(conn_t *c)
{
    c->busy = 1;
    c->keep = VARIANT.keep_alive && c->req.keep_alive && !loop_host_stopping();
    (void)uv_timer_stop(&c->timer);
    route_t route = route_of(&c->req);
    if (route != ROUTE_IO) {
        respond_now(&c->res, route, &c->req, c->keep);
        send_response(c);
        return;
    }
    c->refs++;
    if (fanout_loop_start(loop_host_fanout(), io_done_cb, c) != 0) {
        c->refs--;
        fanout_result_t failed = {.calls = cfg.fanout, .failed = cfg.fanout};
        snprintf(failed.first_error, sizeof failed.first_error, "cannot start the fan-out");
        respond_io(&c->res, &failed, c->keep);
        send_response(c);
    }
}

static void process_input(conn_t *c)
{
    if (c->busy || c->closing)
        return;
    size_t used = 0;
    http_req_status_t st = http_request_feed(&c->req, c->buf, c->have, &used);
    memmove(c->buf, c->buf + used, c->have - used);
    c->have -= used;
    if (c->read_paused && c->have < sizeof c->buf) {
        c->read_paused = 0;
        if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0) {
            conn_close(c);
            return;
        }
    }
    if (st == HTTP_REQ_DONE) {
        dispatch(c);
    } else if (st != HTTP_REQ_INCOMPLETE) {
        c->busy = 1;
        c->keep = 0;
        respond_rejected(&c->res, st, c->req.error);
        send_response(c);
    } else if (uv_timer_start(&c->timer, client_timeout_cb,
                              (uint64_t)cfg.client_timeout_ms, 0) != 0) {
        conn_close(c);
    }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn_t *c = h->data;
    size_t room = sizeof c->buf - c->have;
    /* While a request is served, unparsed bytes wait in buf; when it is
     * full, reads get no room and the client waits (back-pressure). */
    *buf = uv_buf_init(c->buf + c->have, (unsigned)(room < READ_CHUNK_BYTES ? room : READ_CHUNK_BYTES));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    conn_t *c = s->data;
    if (nread < 0) {
        conn_close(c); /* EOF or error; a pending fan-out still holds c */
        return;
    }
    if (c->shutdown.data != NULL) {
        c->have = 0; /* lingering after an error answer: discard */
        return;
    }
    c->have += (size_t)nread;
    if (c->have == sizeof c->buf && c->busy) {
        (void)uv_read_stop(s);
        c->read_paused = 1;
    }
    process_input(c);
}

/* The loop host's: a connection was accepted. Once libuv has the socket,
 * a failure closes the connection the usual way (its handles exist). */
static int conn_cb(int fd)
{
    conn_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    int rc = uv_tcp_init(loop_host_loop(), &c->tcp);
    if (rc != 0) {
        free(c);
        return rc;
    }
    http_request_init(&c->req);
    (void)uv_timer_init(loop_host_loop(), &c->timer); /* cannot fail */
    c->tcp.data = c->timer.data = c;
    c->refs = 2;
    if (uv_tcp_open(&c->tcp, fd) != 0) {
        (void)close(fd); /* the handle did not take it */
        conn_close(c);
    } else if (uv_tcp_nodelay(&c->tcp, 1) != 0 ||
               uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0) {
        conn_close(c);
    } else {
        process_input(c); /* arms the client timeout */
    }
    return 0;
}

/* Every TCP handle on the loop is a connection: the loop host watches the
 * listening socket, and the fan-out its sockets, with other handles. */
static void close_idle_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (h->type == UV_TCP) {
        conn_t *c = h->data;
        if (!c->busy)
            conn_close(c);
    }
}

/* The loop host's, on a stop: idle connections close now; those in a
 * request answer it (Connection: close) and then close. */
static void stop_cb(void)
{
    uv_walk(loop_host_loop(), close_idle_cb, NULL);
}

int main(int argc, char **argv)
{
    server_config_load(&cfg, &VARIANT, argc, argv);
    server_capacity = 0; /* unbounded: every connection is served at once */
    static const loop_host_model_t model = {.conn_cb = conn_cb, .stop_cb = stop_cb};
    return loop_host_run(&cfg, &model);
}
