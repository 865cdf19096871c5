/* HTTP/1.1 to the upstream: one connection per call in flight, kept alive
 * and reused, as the study's clients did (and curl before this file).
 *
 * A call on a kept-alive connection costs two system calls, send and
 * recv: the request is prepared once, the socket stays in our epoll set
 * for its whole life (no re-registration per call), and one short recv
 * drains the tiny answer (edge-triggered: a later byte brings a new
 * event). Idle connections are a LIFO list, the warmest first. An idle
 * connection that becomes readable was closed by the upstream, or spoke
 * out of turn: it is dropped. A call whose reused connection turns out to
 * be dead before any byte of the answer (the upstream closed it as we
 * sent) is sent again once on a new connection, as curl does. */
#include "upstream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <llhttp.h>

#include "log.h"

#define READ_BUF_BYTES 16384 /* one per client: answers are parsed at once */
#define REQUEST_MAX 1024

typedef enum { CONN_CONNECTING, CONN_SENDING, CONN_WAITING, CONN_IDLE } conn_state_t;

typedef struct h1_conn_s {
    upstream_sock_t sock; /* first: the socket's events find the connection */
    llhttp_t parser;
    conn_state_t state;
    upstream_call_t *call; /* in flight, or NULL when idle */
    struct h1_conn_s *prev, *next; /* on the idle list */
    size_t sent;    /* bytes of the request written */
    int reused;     /* has answered a call before: may have been closed since */
    int answering;  /* bytes of this call's answer have come */
    int complete;   /* the parser saw the answer's end */
    int keep;       /* the answer allows another request on the connection */
} h1_conn_t;

typedef struct h1_s {
    h1_conn_t *idle; /* most recently used first */
    int starting;    /* inside start: a call that fails ends later */
    llhttp_settings_t settings;
    char request[REQUEST_MAX];
    size_t request_len;
    char buf[READ_BUF_BYTES];
} h1_t;

static void start_call(upstream_t *up, upstream_call_t *call, int fresh);

/* ---- the idle list ---- */

static void idle_push(h1_t *h1, h1_conn_t *conn)
{
    conn->state = CONN_IDLE;
    conn->prev = NULL;
    conn->next = h1->idle;
    if (h1->idle != NULL)
        h1->idle->prev = conn;
    h1->idle = conn;
}

static void idle_remove(h1_t *h1, h1_conn_t *conn)
{
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        h1->idle = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    conn->prev = conn->next = NULL;
}

/* ---- ending a call ---- */

static void conn_free(upstream_sock_t *sock) { free(sock); }

static void conn_close(h1_conn_t *conn)
{
    if (conn->state == CONN_IDLE)
        idle_remove(upstream_transport_state(conn->sock.up), conn);
    upstream_sock_close(&conn->sock, conn_free);
}

/* The call failed on this connection, which closes. */
static void conn_fail(h1_conn_t *conn, const char *why, int err)
{
    upstream_t *up = conn->sock.up;
    h1_t *h1 = upstream_transport_state(up);
    upstream_call_t *call = conn->call;
    conn->call = NULL;
    conn_close(conn);
    if (h1->starting)
        upstream_call_end_soon(up, call, why, err);
    else
        upstream_call_end(call, 0, why, err);
}

/* A reused connection died before any byte of the answer: the upstream
 * closed it while idle and we sent into the close. One new connection. */
static int retry_if_stale(h1_conn_t *conn)
{
    if (!conn->reused || conn->answering)
        return 0;
    upstream_t *up = conn->sock.up;
    upstream_call_t *call = conn->call;
    conn->call = NULL;
    conn_close(conn);
    call->conn = NULL;
    start_call(up, call, 1); /* the other idle ones may be as dead */
    return 1;
}

static void conn_answered(h1_conn_t *conn, int leftover)
{
    upstream_call_t *call = conn->call;
    int status = llhttp_get_status_code(&conn->parser);
    conn->call = NULL;
    if (conn->keep && !leftover) {
        conn->reused = 1;
        idle_push(upstream_transport_state(conn->sock.up), conn); /* before done: the
                                                                   * next fan-out may take it */
    } else {
        conn_close(conn);
    }
    upstream_call_end(call, status, NULL, 0);
}

/* ---- the parser ---- */

static int on_message_complete(llhttp_t *parser)
{
    h1_conn_t *conn = parser->data;
    conn->complete = 1;
    conn->keep = llhttp_should_keep_alive(parser);
    return HPE_PAUSED; /* stop here: anything after it is out of turn */
}

/* ---- the socket ---- */

static void send_request(h1_conn_t *conn)
{
    h1_t *h1 = upstream_transport_state(conn->sock.up);
    while (conn->sent < h1->request_len) {
        ssize_t n = send(conn->sock.fd, h1->request + conn->sent, h1->request_len - conn->sent,
                         MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                conn->state = CONN_SENDING; /* the rest on EPOLLOUT */
                return;
            }
            if (errno == EINTR)
                continue;
            if (!retry_if_stale(conn))
                conn_fail(conn, "sending to the upstream", errno);
            return;
        }
        conn->sent += (size_t)n;
    }
    conn->state = CONN_WAITING;
}

/* Parse what came; 1 when the call has ended (conn may be gone). */
static int parse(h1_conn_t *conn, const char *data, size_t len)
{
    conn->answering = 1;
    llhttp_errno_t err = llhttp_execute(&conn->parser, data, len);
    if (err == HPE_PAUSED) {
        const char *end = llhttp_get_error_pos(&conn->parser);
        conn_answered(conn, end != NULL && end < data + len);
        return 1;
    }
    if (err != HPE_OK) {
        log_debug("upstream answer: %s", llhttp_errno_name(err));
        conn_fail(conn, "the upstream's answer is not HTTP", 0);
        return 1;
    }
    return 0;
}

static void read_answer(h1_conn_t *conn)
{
    h1_t *h1 = upstream_transport_state(conn->sock.up);
    for (;;) {
        ssize_t n = recv(conn->sock.fd, h1->buf, sizeof h1->buf, 0);
        if (n > 0) {
            if (parse(conn, h1->buf, (size_t)n) || (size_t)n < sizeof h1->buf)
                return; /* ended, or drained: edge-triggered, more will wake us */
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (retry_if_stale(conn))
            return;
        if (n == 0 && conn->answering && llhttp_finish(&conn->parser) == HPE_OK &&
            conn->complete) {
            conn->keep = 0; /* an answer that ends with the connection */
            conn_answered(conn, 0);
            return;
        }
        conn_fail(conn, n == 0 ? "the upstream closed the connection before answering"
                               : "receiving from the upstream",
                  n == 0 ? 0 : errno);
        return;
    }
}

static void conn_ready(upstream_sock_t *sock, uint32_t events)
{
    h1_conn_t *conn = (h1_conn_t *)sock;
    int readable = (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    switch (conn->state) {
    case CONN_IDLE:
        if (readable)
            conn_close(conn); /* closed by the upstream, or out of turn */
        return;
    case CONN_CONNECTING:
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        int err = upstream_sock_error(sock);
        if (err != 0) {
            upstream_address_suspect(sock->up);
            conn_fail(conn, "cannot connect to the upstream", -err);
            return;
        }
        send_request(conn);
        return;
    case CONN_SENDING:
        if (events & EPOLLOUT)
            send_request(conn);
        else if (readable)
            read_answer(conn);
        return;
    case CONN_WAITING:
        if (readable)
            read_answer(conn);
        return;
    }
}

/* ---- the transport ---- */

static void conn_begin(h1_conn_t *conn, upstream_call_t *call)
{
    conn->call = call;
    call->conn = conn;
    conn->sent = 0;
    conn->answering = conn->complete = conn->keep = 0;
    llhttp_reset(&conn->parser);
}

/* fresh: on a new connection, not an idle one. */
static void start_call(upstream_t *up, upstream_call_t *call, int fresh)
{
    h1_t *h1 = upstream_transport_state(up);
    h1_conn_t *conn = fresh ? NULL : h1->idle;
    if (conn != NULL) {
        idle_remove(h1, conn);
        conn_begin(conn, call);
        send_request(conn);
        return;
    }
    conn = calloc(1, sizeof *conn);
    if (conn == NULL) {
        upstream_call_end_soon(up, call, "out of memory for an upstream connection", ENOMEM);
        return;
    }
    conn->sock.ready = conn_ready;
    int rc = upstream_sock_connect(up, &conn->sock);
    if (rc != 0) {
        free(conn);
        upstream_call_end_soon(up, call, "cannot open a connection to the upstream", -rc);
        return;
    }
    llhttp_init(&conn->parser, HTTP_RESPONSE, &h1->settings);
    conn->parser.data = conn;
    conn_begin(conn, call);
    conn->state = CONN_CONNECTING;
}

static void h1_start(upstream_t *up, upstream_call_t *call)
{
    h1_t *h1 = upstream_transport_state(up);
    h1->starting++;
    start_call(up, call, 0);
    h1->starting--;
}

static void h1_cancel(upstream_t *up, upstream_call_t *call)
{
    (void)up;
    h1_conn_t *conn = call->conn;
    if (conn == NULL)
        return;
    conn->call = NULL;
    call->conn = NULL;
    conn_close(conn); /* its answer may still come: not reusable */
}

static int h1_init(upstream_t *up)
{
    h1_t *h1 = calloc(1, sizeof *h1);
    if (h1 == NULL)
        return -ENOMEM;
    llhttp_settings_init(&h1->settings);
    h1->settings.on_message_complete = on_message_complete;
    int n = snprintf(h1->request, sizeof h1->request,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\n\r\n", upstream_path(up),
                     upstream_authority(up));
    if (n < 0 || (size_t)n >= sizeof h1->request) {
        free(h1);
        return -ENAMETOOLONG;
    }
    h1->request_len = (size_t)n;
    upstream_set_transport_state(up, h1);
    return 0;
}

static void h1_close(upstream_t *up)
{
    h1_t *h1 = upstream_transport_state(up);
    while (h1->idle != NULL)
        conn_close(h1->idle);
    free(h1);
    upstream_set_transport_state(up, NULL);
}

const upstream_transport_t upstream_h1 = {
    .name = "HTTP/1.1",
    .init = h1_init,
    .start = h1_start,
    .cancel = h1_cancel,
    .flush = NULL,
    .close = h1_close,
};
