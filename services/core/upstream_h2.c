/* h2c to the upstream, with prior knowledge (RFC 9113 3.3): the calls of
 * every fan-out on the loop are streams of a few shared connections.
 *
 * Why: over HTTP/1.1 each call in flight holds a socket, and each call
 * costs a send and a recv of its own. Here a connection carries up to the
 * peer's SETTINGS_MAX_CONCURRENT_STREAMS calls (slowapi says 1000; 100 is
 * assumed until its SETTINGS come), and the requests started in one turn
 * of the loop leave in one send(2) per connection: start() only queues the
 * request in nghttp2, and flush() at the end of the turn writes what every
 * connection has queued. The answers of many calls come back in one recv.
 *
 * A connection's life:
 *   connecting   opened by a call that found no room; calls may queue on
 *                it meanwhile (nghttp2 holds their frames); the preface,
 *                SETTINGS and requests go out when the connect completes
 *   serving      takes streams while it has room; the first one with room
 *                is filled before the next (fewer connections, fuller sends)
 *   draining     GOAWAY came (or its stream ids ran out): no new streams;
 *                closed once its last stream ends
 *   failed       connect error, EOF or reset, fatal nghttp2 error: each of
 *                its calls ends with status 0 and a reason; the socket
 *                closes, the struct is freed after the batch of events
 * An idle connection stays open for the next fan-out; if the peer closes
 * it, it is dropped quietly.
 *
 * nghttp2 runs our callbacks from inside mem_recv and mem_send, and a
 * call's done (run from on_stream_close) may start or cancel calls. So
 * nothing is sent from a callback (a start only marks its connection
 * dirty), and a connection is failed only after nghttp2 has returned. A
 * connection's calls are a FIFO list through call->next: the upstream
 * answers in about the order it was asked, so unlinking a finished call
 * almost always takes the head. */
#include "upstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <nghttp2/nghttp2.h>

#include "clock.h"
#include "log.h"

#define H2_READ_BUF_BYTES (64 * 1024)  /* one per client: answers are handled at once */
/* Frames are gathered up to this much before a send(2): a turn's requests
 * (13 bytes each once HPACK has indexed the headers) go in one. */
#define H2_OUT_GATHER_BYTES (64 * 1024)
#define H2_OUT_MIN_ALLOC_BYTES 4096
/* Our receive window for a whole connection. The default, 64 KiB, would
 * hold back the answers of 1000 streams until a WINDOW_UPDATE round trip,
 * and cost a WINDOW_UPDATE every 32 KiB; the answers are tiny, so this is
 * a bound that is never reached, not a buffer that is ever filled. */
#define H2_CONN_WINDOW_BYTES (16 * 1024 * 1024)
#define H2_REQUEST_HEADERS 4
/* RST_STREAMs a connection may send: a burst, then so many a second.
 * nghttp2 servers (slowapi among them) count the resets they receive,
 * 1000 at once then 33 a second since the "rapid reset" attack
 * (CVE-2023-44487), and beyond that end the connection with GOAWAY
 * (INTERNAL_ERROR), failing every call on it: the fan-outs of c=300
 * timing out together cancel 3000 calls. We stay at half their budget;
 * a cancelled call past ours is only forgotten, and its stream ends
 * when the upstream answers. */
#define H2_RESET_BURST 500
#define H2_RESETS_PER_S 16

typedef struct h2_client_s h2_client_t;
typedef struct h2_conn_s h2_conn_t;

struct h2_conn_s {
    upstream_sock_t sock;   /* first: the socket's events find the connection */
    h2_client_t *client;
    nghttp2_session *ng;    /* NULL once failed */
    h2_conn_t *prev, *next; /* on client->conns while not failed */
    upstream_call_t *calls, *calls_tail; /* in flight, oldest first (call->next) */
    uint32_t streams;       /* streams nghttp2 has open or queued, cancelled ones too */
    uint8_t *out;           /* frames taken from nghttp2, not yet sent */
    size_t out_len, out_sent, out_cap;
    int connecting;         /* until the connect completes */
    int blocked;            /* the kernel took no more: resume on EPOLLOUT */
    int dirty;              /* nghttp2 has frames to send: flush */
    int draining;           /* takes no new streams */
    int goaway;             /* the peer sent GOAWAY */
    int failed;             /* its calls are ending: it is going */
    uint32_t resets_left;   /* RST_STREAMs it may send now */
    uint64_t resets_s;      /* when resets_left was last refilled, in s */
};

struct h2_client_s {
    upstream_t *up;
    h2_conn_t *conns, *conns_tail; /* oldest first: the first with room is filled */
    h2_conn_t *filling;            /* took the last stream: tried first */
    nghttp2_session_callbacks *callbacks;
    nghttp2_option *option;
    nghttp2_nv request[H2_REQUEST_HEADERS];
    int flushing;                  /* inside h2_flush */
    int flush_again;               /* a connection became dirty during it */
    uint8_t in[H2_READ_BUF_BYTES];
};

/* ---- a connection's calls ---- */

static void h2_calls_push(h2_conn_t *conn, upstream_call_t *call)
{
    call->conn = conn;
    call->next = NULL;
    if (conn->calls_tail != NULL)
        conn->calls_tail->next = call;
    else
        conn->calls = call;
    conn->calls_tail = call;
}

/* Unlink call from conn's list. O(1) when it is the oldest, the usual case. */
static void h2_calls_remove(h2_conn_t *conn, upstream_call_t *call)
{
    upstream_call_t *prev = NULL, *at = conn->calls;
    while (at != NULL && at != call) {
        prev = at;
        at = at->next;
    }
    if (at == NULL)
        return;
    if (prev != NULL)
        prev->next = call->next;
    else
        conn->calls = call->next;
    if (conn->calls_tail == call)
        conn->calls_tail = prev;
    call->next = NULL;
    call->conn = NULL;
}

/* ---- the client's connections ---- */

static void h2_conns_append(h2_client_t *client, h2_conn_t *conn)
{
    conn->next = NULL;
    conn->prev = client->conns_tail;
    if (client->conns_tail != NULL)
        client->conns_tail->next = conn;
    else
        client->conns = conn;
    client->conns_tail = conn;
}

static void h2_conns_remove(h2_client_t *client, h2_conn_t *conn)
{
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        client->conns = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    else
        client->conns_tail = conn->prev;
    conn->prev = conn->next = NULL;
    if (client->filling == conn)
        client->filling = NULL;
}

static int h2_conn_has_room(h2_conn_t *conn)
{
    if (conn->draining)
        return 0;
    /* 100 until the peer's SETTINGS come (nghttp2's assumption), then
     * what the peer said, or unlimited if it said nothing. */
    uint32_t max = nghttp2_session_get_remote_settings(conn->ng,
                                                       NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    return conn->streams < max;
}

static h2_conn_t *h2_conn_with_room(h2_client_t *client)
{
    if (client->filling != NULL && h2_conn_has_room(client->filling))
        return client->filling;
    for (h2_conn_t *conn = client->conns; conn != NULL; conn = conn->next)
        if (h2_conn_has_room(conn))
            return client->filling = conn;
    return NULL;
}

/* ---- closing ---- */

static void h2_conn_free(upstream_sock_t *sock)
{
    h2_conn_t *conn = (h2_conn_t *)sock;
    free(conn->out);
    free(conn);
}

/* The connection is done with: each call still on it ends with why (status
 * 0) unless why is NULL (the client closes: no call may be in flight), the
 * session goes and the socket closes. Never from inside nghttp2. */
static void h2_conn_fail(h2_conn_t *conn, const char *why, int err)
{
    conn->failed = 1;
    h2_conns_remove(conn->client, conn);
    if (conn->calls != NULL)
        log_debug("h2 upstream connection (fd %d): %s%s%s", conn->sock.fd, why ? why : "closed",
                  err != 0 ? ": " : "", err != 0 ? strerror(err) : "");
    /* One at a time from the head: a done may cancel another of them. */
    upstream_call_t *call;
    while ((call = conn->calls) != NULL) {
        h2_calls_remove(conn, call);
        if (why != NULL)
            upstream_call_end(call, 0, why, err);
        else
            log_error("h2 upstream: a call was still in flight when the client closed");
    }
    nghttp2_session_del(conn->ng); /* runs no callback */
    conn->ng = NULL;
    upstream_sock_close(&conn->sock, h2_conn_free);
}

/* ---- sending ---- */

/* nghttp2 has frames for conn: send them at the end of this turn. */
static void h2_conn_want_send(h2_conn_t *conn)
{
    conn->dirty = 1;
    if (conn->client->flushing)
        conn->client->flush_again = 1;
    upstream_want_flush(conn->sock.up);
}

static int h2_out_reserve(h2_conn_t *conn, size_t len)
{
    if (conn->out_len + len <= conn->out_cap)
        return 0;
    size_t cap = conn->out_cap > 0 ? conn->out_cap : H2_OUT_MIN_ALLOC_BYTES;
    while (cap < conn->out_len + len)
        cap *= 2;
    uint8_t *out = realloc(conn->out, cap);
    if (out == NULL)
        return -ENOMEM;
    conn->out = out;
    conn->out_cap = cap;
    return 0;
}

/* Take frames from nghttp2 into conn->out (empty) until it has no more
 * or a send's worth. Returns 0, -ENOMEM or -EPROTO. */
static int h2_out_gather(h2_conn_t *conn)
{
    while (conn->out_len < H2_OUT_GATHER_BYTES) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(conn->ng, &data);
        if (n < 0) {
            log_debug("h2 upstream: nghttp2_session_mem_send: %s", nghttp2_strerror((int)n));
            return -EPROTO;
        }
        if (n == 0)
            return 0;
        if (h2_out_reserve(conn, (size_t)n) < 0)
            return -ENOMEM;
        memcpy(conn->out + conn->out_len, data, (size_t)n);
        conn->out_len += (size_t)n;
    }
    return 0;
}

/* Send what conn->out holds, then what nghttp2 has, until both are empty
 * or the kernel takes no more (then conn->blocked). 0 or -errno. */
static int h2_conn_send(h2_conn_t *conn)
{
    conn->dirty = 0;
    for (;;) {
        if (conn->out_sent < conn->out_len) {
            ssize_t n = send(conn->sock.fd, conn->out + conn->out_sent,
                             conn->out_len - conn->out_sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                conn->blocked = 1;
                return 0;
            }
            if (n < 0)
                return -errno;
            conn->out_sent += (size_t)n;
            continue;
        }
        conn->out_len = conn->out_sent = 0;
        conn->blocked = 0;
        int rc = h2_out_gather(conn);
        if (rc < 0)
            return rc;
        if (conn->out_len == 0)
            return 0;
    }
}

/* After nghttp2 ran: is the connection finished (GOAWAY exchanged and no
 * stream left, or draining and idle)? Then it closes quietly: any call
 * still listed would have been lost, so it ends as a failure. */
static int h2_conn_close_if_done(h2_conn_t *conn)
{
    int finished = !nghttp2_session_want_read(conn->ng) && !nghttp2_session_want_write(conn->ng);
    if (!finished && !(conn->draining && conn->streams == 0 && conn->out_len == 0))
        return 0;
    h2_conn_fail(conn, "the upstream connection ended (GOAWAY)", 0);
    return 1;
}

/* ---- receiving ---- */

/* Read until the socket is drained (a short read, or EAGAIN: edge-
 * triggered, more data brings another event; after a hang-up, until EOF)
 * and hand it to nghttp2. Returns 0, or fails the connection and returns
 * -1. */
static int h2_conn_read(h2_conn_t *conn, uint32_t events)
{
    h2_client_t *client = conn->client;
    int hung_up = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    for (;;) {
        ssize_t n = recv(conn->sock.fd, client->in, sizeof client->in, 0);
        if (n > 0) {
            ssize_t used = nghttp2_session_mem_recv(conn->ng, client->in, (size_t)n);
            if (used < 0) {
                log_debug("h2 upstream: nghttp2_session_mem_recv: %s",
                          nghttp2_strerror((int)used));
                h2_conn_fail(conn, "the upstream broke the HTTP/2 protocol", EPROTO);
                return -1;
            }
            if ((size_t)n < sizeof client->in && !hung_up)
                return 0;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n == 0)
            h2_conn_fail(conn, "the upstream closed the connection", 0);
        else
            h2_conn_fail(conn, "receiving from the upstream", errno);
        return -1;
    }
}

/* The connect completed, or failed. Returns 0, or -1: conn has failed. */
static int h2_conn_connected(h2_conn_t *conn)
{
    int err = upstream_sock_error(&conn->sock);
    if (err != 0) {
        upstream_address_suspect(conn->sock.up);
        h2_conn_fail(conn, "cannot connect to the upstream", -err);
        return -1;
    }
    conn->connecting = 0;
    h2_conn_want_send(conn); /* with the other connections' frames, at the turn's end */
    return 0;
}

static void h2_conn_ready(upstream_sock_t *sock, uint32_t events)
{
    h2_conn_t *conn = (h2_conn_t *)sock;
    if (conn->connecting) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        if (h2_conn_connected(conn) < 0)
            return;
    }
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && h2_conn_read(conn, events) < 0)
        return;
    if ((events & EPOLLOUT) && conn->blocked) {
        int rc = h2_conn_send(conn);
        if (rc < 0) {
            h2_conn_fail(conn, "sending to the upstream", -rc);
            return;
        }
    }
    if (h2_conn_close_if_done(conn))
        return;
    /* SETTINGS and PING acks, WINDOW_UPDATE, RST_STREAM of cancelled calls */
    if (nghttp2_session_want_write(conn->ng) && !conn->dirty)
        h2_conn_want_send(conn);
}

/* ---- nghttp2's callbacks (user_data: the connection) ---- */

static int h2_on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
                        size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                        void *user_data)
{
    (void)flags;
    (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || namelen != 7 || memcmp(name, ":status", 7) != 0)
        return 0;
    upstream_call_t *call = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (call == NULL)
        return 0; /* cancelled */
    /* nghttp2 has checked the value: three digits. A 1xx is replaced by
     * the final answer's status. */
    int status = 0;
    for (size_t i = 0; i < valuelen; i++)
        status = status * 10 + (value[i] - '0');
    call->status = status;
    return 0;
}

static int h2_on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user_data)
{
    (void)ng;
    h2_conn_t *conn = user_data;
    if (frame->hd.type == NGHTTP2_GOAWAY) {
        /* nghttp2 closes the streams it did not take (REFUSED_STREAM) */
        log_debug("h2 upstream: GOAWAY (%s), last stream %d",
                  nghttp2_http2_strerror(frame->goaway.error_code),
                  (int)frame->goaway.last_stream_id);
        conn->goaway = 1;
        conn->draining = 1;
    }
    return 0;
}

static const char *h2_close_reason(h2_conn_t *conn, uint32_t error_code)
{
    if (error_code == NGHTTP2_REFUSED_STREAM && conn->goaway)
        return "the upstream is going away (GOAWAY): stream refused";
    if (error_code == NGHTTP2_REFUSED_STREAM)
        return "the upstream refused the stream";
    if (error_code != NGHTTP2_NO_ERROR)
        return "the upstream reset the stream";
    return "the upstream's answer has no status";
}

/* The stream ended: answered, reset, or refused. Its call (none if it
 * was cancelled) ends now. */
static int h2_on_stream_close(nghttp2_session *ng, int32_t stream_id, uint32_t error_code,
                              void *user_data)
{
    h2_conn_t *conn = user_data;
    conn->streams--;
    upstream_call_t *call = nghttp2_session_get_stream_user_data(ng, stream_id);
    if (call == NULL)
        return 0;
    h2_calls_remove(conn, call);
    if (error_code == NGHTTP2_NO_ERROR && call->status != 0)
        upstream_call_end(call, call->status, NULL, 0);
    else
        upstream_call_end(call, 0, h2_close_reason(conn, error_code), 0);
    return 0;
}

/* ---- opening a connection ---- */

/* Our SETTINGS (no push) and connection window, queued to follow the
 * preface. Returns 0 or an nghttp2 error. */
static int h2_session_begin(nghttp2_session *ng)
{
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    int rv = nghttp2_submit_settings(ng, NGHTTP2_FLAG_NONE, settings,
                                     sizeof settings / sizeof settings[0]);
    if (rv != 0)
        return rv;
    return nghttp2_session_set_local_window_size(ng, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW_BYTES);
}

/* A new connection, connecting, on client->conns. 0 or -errno. */
static int h2_conn_open(h2_client_t *client, h2_conn_t **out)
{
    h2_conn_t *conn = calloc(1, sizeof *conn);
    if (conn == NULL)
        return -ENOMEM;
    conn->client = client;
    conn->resets_left = H2_RESET_BURST;
    conn->resets_s = clock_now_ns() / NS_PER_S;
    if (nghttp2_session_client_new2(&conn->ng, client->callbacks, conn, client->option) != 0 ||
        h2_session_begin(conn->ng) != 0) {
        nghttp2_session_del(conn->ng);
        free(conn);
        return -ENOMEM; /* nghttp2 fails here only for memory */
    }
    conn->sock.ready = h2_conn_ready;
    int rc = upstream_sock_connect(client->up, &conn->sock);
    if (rc != 0) {
        nghttp2_session_del(conn->ng);
        free(conn); /* never watched: nothing can be pending for it */
        return rc;
    }
    conn->connecting = 1;
    h2_conns_append(client, conn);
    client->filling = conn;
    *out = conn;
    return 0;
}

/* ---- the transport ---- */

static void h2_start(upstream_t *up, upstream_call_t *call)
{
    h2_client_t *client = upstream_transport_state(up);
    for (;;) {
        h2_conn_t *conn = h2_conn_with_room(client);
        if (conn == NULL) {
            int rc = h2_conn_open(client, &conn);
            if (rc < 0) {
                upstream_call_end_soon(up, call, rc == -ENOMEM
                                                     ? "out of memory for an upstream connection"
                                                     : "cannot open a connection to the upstream",
                                       -rc);
                return;
            }
        }
        call->status = 0;
        int32_t id = nghttp2_submit_request(conn->ng, NULL, client->request, H2_REQUEST_HEADERS,
                                            NULL, call);
        if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) {
            conn->draining = 1; /* 2^30 streams on it: the next connection */
            continue;
        }
        if (id < 0) {
            log_error("h2 upstream: nghttp2_submit_request: %s", nghttp2_strerror(id));
            upstream_call_end_soon(up, call, "cannot queue the request to the upstream", ENOMEM);
            return;
        }
        call->stream_id = id;
        conn->streams++;
        h2_calls_push(conn, call);
        if (!conn->dirty)
            h2_conn_want_send(conn);
        return;
    }
}

/* May conn send one more RST_STREAM (H2_RESET_BURST)? Takes it if so. */
static int h2_conn_take_reset(h2_conn_t *conn)
{
    uint64_t now_s = clock_now_ns() / NS_PER_S;
    if (now_s > conn->resets_s) {
        uint64_t refill = (now_s - conn->resets_s) * H2_RESETS_PER_S + conn->resets_left;
        conn->resets_left = refill < H2_RESET_BURST ? (uint32_t)refill : H2_RESET_BURST;
        conn->resets_s = now_s;
    }
    if (conn->resets_left == 0)
        return 0;
    conn->resets_left--;
    return 1;
}

/* The call's fan-out timed out: forget the call, whose done must not run,
 * and reset its stream while the budget allows. A request still queued
 * (its stream not yet open) is dropped by nghttp2 before it is sent, with
 * no frame: that costs no budget. */
static void h2_cancel(upstream_t *up, upstream_call_t *call)
{
    (void)up;
    h2_conn_t *conn = call->conn;
    if (conn == NULL)
        return;
    h2_calls_remove(conn, call);
    if (conn->failed)
        return; /* its calls are ending (this one from another's done): unlinked is enough */
    (void)nghttp2_session_set_stream_user_data(conn->ng, call->stream_id, NULL);
    int queued = nghttp2_session_find_stream(conn->ng, call->stream_id) == NULL;
    if ((!queued && !h2_conn_take_reset(conn)) ||
        nghttp2_submit_rst_stream(conn->ng, NGHTTP2_FLAG_NONE, call->stream_id,
                                  NGHTTP2_CANCEL) != 0)
        return; /* the answer, when it comes, finds no call */
    if (!conn->dirty)
        h2_conn_want_send(conn);
}

/* End of the turn: every dirty connection sends what nghttp2 queued,
 * again if a failure's done made another one dirty meanwhile. */
static void h2_flush(upstream_t *up)
{
    h2_client_t *client = upstream_transport_state(up);
    client->flushing = 1;
    do {
        client->flush_again = 0;
        h2_conn_t *next;
        for (h2_conn_t *conn = client->conns; conn != NULL; conn = next) {
            next = conn->next;
            if (!conn->dirty || conn->connecting || conn->blocked)
                continue;
            int rc = h2_conn_send(conn);
            if (rc == -EPROTO || rc == -ENOMEM)
                h2_conn_fail(conn, "HTTP/2 error on the upstream connection", -rc);
            else if (rc < 0)
                h2_conn_fail(conn, "sending to the upstream", -rc);
            else
                (void)h2_conn_close_if_done(conn);
        }
    } while (client->flush_again);
    client->flushing = 0;
}

static void h2_close(upstream_t *up)
{
    h2_client_t *client = upstream_transport_state(up);
    while (client->conns != NULL)
        h2_conn_fail(client->conns, NULL, 0);
    nghttp2_session_callbacks_del(client->callbacks);
    nghttp2_option_del(client->option);
    free(client);
    upstream_set_transport_state(up, NULL);
}

/* The request's headers, made once: nghttp2 references, not copies, the
 * names and values (NO_COPY), which live as long as up. */
static void h2_request_init(h2_client_t *client, upstream_t *up)
{
    const char *fields[H2_REQUEST_HEADERS][2] = {
        {":method", "GET"},
        {":scheme", "http"},
        {":authority", upstream_authority(up)},
        {":path", upstream_path(up)},
    };
    for (int i = 0; i < H2_REQUEST_HEADERS; i++) {
        client->request[i] = (nghttp2_nv){
            .name = (uint8_t *)fields[i][0],
            .value = (uint8_t *)fields[i][1],
            .namelen = strlen(fields[i][0]),
            .valuelen = strlen(fields[i][1]),
            .flags = NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE,
        };
    }
}

static int h2_init(upstream_t *up)
{
    h2_client_t *client = calloc(1, sizeof *client);
    if (client == NULL)
        return -ENOMEM;
    client->up = up;
    if (nghttp2_session_callbacks_new(&client->callbacks) != 0 ||
        nghttp2_option_new(&client->option) != 0) {
        nghttp2_session_callbacks_del(client->callbacks);
        free(client);
        return -ENOMEM;
    }
    nghttp2_session_callbacks_set_on_header_callback(client->callbacks, h2_on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(client->callbacks, h2_on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(client->callbacks,
                                                           h2_on_stream_close);
    /* Said outright, though it is nghttp2's default: no more streams than
     * this on a new connection until the peer's SETTINGS say how many. */
    nghttp2_option_set_peer_max_concurrent_streams(client->option, 100);
    h2_request_init(client, up);
    upstream_set_transport_state(up, client);
    return 0;
}

const upstream_transport_t upstream_h2 = {
    .name = "h2c",
    .init = h2_init,
    .start = h2_start,
    .cancel = h2_cancel,
    .flush = h2_flush,
    .close = h2_close,
};
