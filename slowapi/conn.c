/* One client connection: a small state machine driven by libuv callbacks.
 *
 *   READING  --request parsed--> answer now (healthz, stats, errors, delay=0)
 *            --request parsed--> DELAYING --deadline due--> answer
 *            (the deadline waits in the server's delay_timer: a timerfd and
 *            a heap, see delay_timer.h; the answer's lateness is counted)
 *   answer:  uv_try_write; when the kernel takes it all we go on at once,
 *            otherwise WRITING until the write callback.
 *   then     READING again (keep-alive), or LINGERING after the last answer
 *            (Connection: close, HTTP/1.0, 400, 431).
 *   CLOSING  on EOF, any error, or server stop; freed when both handles are.
 *   H2       when the first bytes are the HTTP/2 preface (h2c with prior
 *            knowledge), or after a request that asks for an h2c upgrade
 *            (RFC 7540 3.2; see conn_upgrade_t): from then on h2.c's
 *            session reads and writes, and ends in LINGERING or CLOSING
 *            like the rest.
 *
 * One request at a time: bytes that arrive while a request waits are kept in
 * `in` and parsed after its answer, so pipelined requests are answered in
 * order and no byte is lost. */
#include "slowapi.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

/* Pipelined bytes kept while a request waits. Past this we stop reading and
 * let TCP flow control hold the client back. */
#define CONN_INPUT_MAX_BYTES (64 * 1024)
#define CONN_INPUT_MIN_ALLOC_BYTES 1024
/* After the last answer, how long a client may keep sending before we close
 * anyway (see conn_linger). */
#define CONN_LINGER_MS 2000
/* Header values kept for an h2c upgrade; longer ones refuse it. The
 * longest name looked for, "http2-settings", fits in the name's buffer. */
#define CONN_HEADER_NAME_MAX_BYTES 16
#define CONN_UPGRADE_VALUE_MAX_BYTES 128
#define CONN_H2_SETTINGS_VALUE_MAX_BYTES 256

typedef enum {
    CONN_READING,
    CONN_DELAYING,
    CONN_WRITING,
    CONN_LINGERING,
    CONN_CLOSING,
    CONN_H2,
} conn_state_t;

typedef enum {
    CONN_HEADER_OTHER,
    CONN_HEADER_UPGRADE,
    CONN_HEADER_H2_SETTINGS,
} conn_header_t;

/* What a request's headers say about an h2c upgrade, gathered by callbacks
 * wrapped around lib/http_request.c's (which keeps no header). llhttp
 * hands names and values over in pieces, split wherever a read ended. */
typedef struct {
    char name[CONN_HEADER_NAME_MAX_BYTES]; /* the header name being received */
    size_t name_len;                       /* > the buffer: one we ignore */
    conn_header_t header;                  /* whose value is being received */
    int value_too_long;
    char upgrade[CONN_UPGRADE_VALUE_MAX_BYTES]; /* one Upgrade header's value */
    size_t upgrade_len;
    char settings[CONN_H2_SETTINGS_VALUE_MAX_BYTES]; /* HTTP2-Settings' value */
    size_t settings_len;
    int wants_h2c;          /* an Upgrade header lists h2c */
    int settings_headers;   /* how many HTTP2-Settings headers */
    int settings_too_long;
    int may_upgrade;        /* HTTP/1.1, Connection: upgrade, no body */
} conn_upgrade_t;

struct conn_s {
    uv_tcp_t tcp;
    uv_timer_t timer;           /* the lingering close's limit */
    delayed_t delayed;          /* a delayed answer's deadline, in server->delays */
    uv_write_t write_req;
    uv_shutdown_t shutdown_req;
    server_t *server;
    conn_t *prev, *next;        /* server->conns */
    conn_state_t state;
    int open_handles;           /* freed when this drops to 0 */
    int reading;                /* uv_read_start is in effect */
    int sniffing;               /* no byte yet tells HTTP/1.1 from h2c */
    h2_session_t *h2;           /* CONN_H2's session */
    int keep_alive;             /* of the answer being sent */
    int status;                 /* of the answer being sent, for the log */
    fault_t fault;              /* the waiting answer's (faults.h) */
    uint64_t parsed_ns;         /* clock_now_ns() when the request was parsed */
    char *in;                   /* received, not parsed yet (pipelining) */
    size_t in_len, in_cap;
    size_t out_len;
    char out[HTTP_RESPONSE_MAX];
    http_request_t req;
    conn_upgrade_t upgrade;     /* of req */
};

/* lib/http_request.c's llhttp callbacks, which ours call first. The same
 * functions for every request: copied at each accept, before ours replace
 * them in that request's settings. */
static llhttp_settings_t conn_lib_settings;
#define CONN_LIB_CB(name, ...)                                                                \
    (conn_lib_settings.name != NULL ? conn_lib_settings.name(__VA_ARGS__) : HPE_OK)

static conn_t *conn_of_parser(llhttp_t *p)
{
    return (conn_t *)((char *)p->data - offsetof(conn_t, req));
}

static int conn_on_message_begin(llhttp_t *p)
{
    conn_upgrade_t *u = &conn_of_parser(p)->upgrade;
    u->name_len = 0;
    u->header = CONN_HEADER_OTHER;
    u->wants_h2c = 0;
    u->settings_headers = 0;
    u->settings_too_long = 0;
    u->settings_len = 0;
    u->may_upgrade = 0;
    return CONN_LIB_CB(on_message_begin, p);
}

static int conn_on_header_field(llhttp_t *p, const char *at, size_t len)
{
    int rc = CONN_LIB_CB(on_header_field, p, at, len);
    conn_upgrade_t *u = &conn_of_parser(p)->upgrade;
    if (rc == HPE_OK && u->name_len + len <= sizeof u->name)
        memcpy(u->name + u->name_len, at, len);
    u->name_len += len; /* past the buffer: no name we look for */
    return rc;
}

static int conn_on_header_field_complete(llhttp_t *p)
{
    conn_upgrade_t *u = &conn_of_parser(p)->upgrade;
    u->header = CONN_HEADER_OTHER;
    if (u->name_len == 7 && strncasecmp(u->name, "upgrade", 7) == 0) {
        u->header = CONN_HEADER_UPGRADE;
        u->upgrade_len = 0;
    } else if (u->name_len == 14 && strncasecmp(u->name, "http2-settings", 14) == 0) {
        u->header = CONN_HEADER_H2_SETTINGS;
        u->settings_headers++;
        u->settings_len = 0;
    }
    u->name_len = 0;
    u->value_too_long = 0;
    return CONN_LIB_CB(on_header_field_complete, p);
}

static int conn_on_header_value(llhttp_t *p, const char *at, size_t len)
{
    int rc = CONN_LIB_CB(on_header_value, p, at, len);
    conn_upgrade_t *u = &conn_of_parser(p)->upgrade;
    char *value = NULL;
    size_t *value_len = NULL, cap = 0;
    if (u->header == CONN_HEADER_UPGRADE) {
        value = u->upgrade;
        value_len = &u->upgrade_len;
        cap = sizeof u->upgrade;
    } else if (u->header == CONN_HEADER_H2_SETTINGS) {
        value = u->settings;
        value_len = &u->settings_len;
        cap = sizeof u->settings;
    }
    if (rc != HPE_OK || value == NULL || u->value_too_long)
        return rc;
    if (*value_len + len > cap) {
        u->value_too_long = 1;
        return rc;
    }
    memcpy(value + *value_len, at, len);
    *value_len += len;
    return rc;
}

/* Does a comma-separated list of protocols name h2c? */
static int conn_lists_h2c(const char *list, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && list[end] != ',')
            end++;
        size_t from = i, to = end;
        while (from < to && (list[from] == ' ' || list[from] == '\t'))
            from++;
        while (to > from && (list[to - 1] == ' ' || list[to - 1] == '\t'))
            to--;
        if (to - from == 3 && strncasecmp(list + from, "h2c", 3) == 0)
            return 1;
        i = end + 1;
    }
    return 0;
}

static int conn_on_header_value_complete(llhttp_t *p)
{
    conn_upgrade_t *u = &conn_of_parser(p)->upgrade;
    if (u->header == CONN_HEADER_UPGRADE && !u->value_too_long &&
        conn_lists_h2c(u->upgrade, u->upgrade_len))
        u->wants_h2c = 1;
    if (u->header == CONN_HEADER_H2_SETTINGS && u->value_too_long)
        u->settings_too_long = 1;
    u->header = CONN_HEADER_OTHER;
    return CONN_LIB_CB(on_header_value_complete, p);
}

static int conn_on_headers_complete(llhttp_t *p)
{
    conn_upgrade_t *u = &conn_of_parser(p)->upgrade;
    /* llhttp's upgrade: an Upgrade header, and Connection lists "upgrade"
     * (RFC 9110 7.8: otherwise Upgrade is to be ignored). A body would
     * have to be read before the switch: refused, as nghttp2 does. */
    int has_body = (p->flags & (F_CHUNKED | F_TRANSFER_ENCODING)) != 0 ||
                   ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
    u->may_upgrade = p->upgrade && p->http_major == 1 && p->http_minor == 1 &&
                     p->method != HTTP_CONNECT && !has_body;
    return CONN_LIB_CB(on_headers_complete, p);
}

/* Our callbacks around the library's, in c->req's settings (llhttp keeps a
 * pointer to them). */
static void conn_hook_parser(conn_t *c)
{
    llhttp_settings_t *settings = &c->req.settings;
    conn_lib_settings = *settings;
    settings->on_message_begin = conn_on_message_begin;
    settings->on_header_field = conn_on_header_field;
    settings->on_header_field_complete = conn_on_header_field_complete;
    settings->on_header_value = conn_on_header_value;
    settings->on_header_value_complete = conn_on_header_value_complete;
    settings->on_headers_complete = conn_on_headers_complete;
}

/* Does the request just parsed ask for h2c, in a way we can grant? */
static int conn_wants_h2c(const conn_t *c)
{
    const conn_upgrade_t *u = &c->upgrade;
    return u->may_upgrade && u->wants_h2c && u->settings_headers == 1 && !u->settings_too_long;
}

static void conn_parse_buffered(conn_t *c);

static uv_stream_t *conn_stream(conn_t *c) { return (uv_stream_t *)&c->tcp; }

static void conn_link(server_t *s, conn_t *c)
{
    c->prev = NULL;
    c->next = s->conns;
    if (s->conns != NULL)
        s->conns->prev = c;
    s->conns = c;
    s->conn_count++;
    stats_conn_opened(&s->stats);
}

static void conn_unlink(server_t *s, conn_t *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    s->conn_count--;
    stats_conn_closed(&s->stats);
}

static void conn_on_handle_closed(uv_handle_t *handle)
{
    conn_t *c = handle->data;
    if (--c->open_handles > 0)
        return;
    server_t *s = c->server;
    conn_unlink(s, c);
    h2_session_free(c->h2);
    free(c->in);
    free(c);
    server_conn_closed(s);
}

void conn_close(conn_t *c)
{
    if (c->state == CONN_CLOSING)
        return;
    c->state = CONN_CLOSING;
    /* A request still waiting is dropped with its connection. */
    delay_timer_cancel(&c->server->delays, &c->delayed.deadline);
    /* So are an h2 session's waiting streams; its memory goes with c's, in
     * conn_on_handle_closed, as nghttp2 may be on the stack right now. */
    if (c->h2 != NULL)
        h2_session_cancel(c->h2);
    /* uv_close stops the timer and the reads and cancels a pending write or
     * shutdown; libuv runs their callbacks (UV_ECANCELED) before the close
     * callbacks, so c is still valid there and is freed only after both
     * handles are closed. */
    if (c->open_handles == 2)
        uv_close((uv_handle_t *)&c->tcp, conn_on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, conn_on_handle_closed);
}

void conn_close_all(server_t *s)
{
    /* conn_close unlinks nothing (that waits for the close callbacks), so
     * walking the list while closing is safe. */
    for (conn_t *c = s->conns; c != NULL; c = c->next)
        conn_close(c);
}

static void conn_on_alloc(uv_handle_t *handle, size_t suggested_bytes, uv_buf_t *buf)
{
    conn_t *c = handle->data;
    (void)suggested_bytes;
    *buf = uv_buf_init(c->server->read_buf, sizeof c->server->read_buf);
}

static void conn_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

int conn_start_reading(conn_t *c)
{
    if (c->reading)
        return 0;
    int rc = uv_read_start(conn_stream(c), conn_on_alloc, conn_on_read);
    if (rc == 0)
        c->reading = 1;
    return rc;
}

void conn_stop_reading(conn_t *c)
{
    /* uv_read_stop cannot fail on a TCP handle (it always returns 0). */
    (void)uv_read_stop(conn_stream(c));
    c->reading = 0;
}

/* Keep bytes that arrived while a request is being answered. */
static int conn_keep_input(conn_t *c, const char *data, size_t len)
{
    if (c->in_len + len > c->in_cap) {
        size_t cap = c->in_cap > 0 ? c->in_cap : CONN_INPUT_MIN_ALLOC_BYTES;
        while (cap < c->in_len + len)
            cap *= 2;
        char *in = realloc(c->in, cap);
        if (in == NULL)
            return -ENOMEM;
        c->in = in;
        c->in_cap = cap;
    }
    memcpy(c->in + c->in_len, data, len);
    c->in_len += len;
    if (c->in_len >= CONN_INPUT_MAX_BYTES)
        conn_stop_reading(c);
    return 0;
}

static void conn_on_linger_timeout(uv_timer_t *timer) { conn_close(timer->data); }

static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
    conn_t *c = req->handle->data;
    if (c->state == CONN_CLOSING)
        return;
    if (status < 0)
        conn_close(c);
    /* Otherwise wait for the client's EOF (conn_on_read) or the timer. */
}

/* After the last answer. Closing a socket that still has unread input makes
 * the kernel send RST, and an RST can destroy our answer in the client's
 * receive buffer before it is read (a 431 sent while the rest of an
 * oversized header block is still arriving, say). So: FIN after the answer,
 * keep reading and dropping until the client closes, and close anyway after
 * CONN_LINGER_MS. */
void conn_linger(conn_t *c)
{
    c->state = CONN_LINGERING;
    int rc = uv_shutdown(&c->shutdown_req, conn_stream(c), conn_on_shutdown);
    if (rc == 0)
        rc = conn_start_reading(c);
    if (rc == 0)
        rc = uv_timer_start(&c->timer, conn_on_linger_timeout, CONN_LINGER_MS, 0);
    if (rc < 0)
        conn_close(c);
}

/* The answer is with the kernel. */
static void conn_sent(conn_t *c)
{
    if (!c->keep_alive) {
        conn_linger(c);
        return;
    }
    http_request_reset(&c->req);
    c->state = CONN_READING;
}

static void conn_on_write(uv_write_t *req, int status)
{
    conn_t *c = req->handle->data;
    if (c->state == CONN_CLOSING)
        return; /* UV_ECANCELED: conn_close was first */
    if (status < 0) {
        log_debug("write: %s", uv_strerror(status));
        conn_close(c);
        return;
    }
    conn_sent(c);
    if (c->state == CONN_READING)
        conn_parse_buffered(c);
}

static void conn_send(conn_t *c)
{
    if (log_enabled(LOG_DEBUG)) {
        const char *method = c->req.headers_done ? llhttp_method_name(c->req.method) : "-";
        log_debug("%s %s -> %d after %.3f ms", method, c->req.url, c->status,
                  ns_to_ms(clock_now_ns() - c->parsed_ns));
    }
    /* Most answers fit in the socket buffer at once: try that first and
     * skip a write request and a loop iteration. */
    uv_buf_t buf = uv_buf_init(c->out, (unsigned int)c->out_len);
    int n = uv_try_write(conn_stream(c), &buf, 1);
    if (n >= 0 && (size_t)n == c->out_len) {
        conn_sent(c);
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        log_debug("write: %s", uv_strerror(n));
        conn_close(c);
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    buf = uv_buf_init(c->out + done, (unsigned int)(c->out_len - done));
    int rc = uv_write(&c->write_req, conn_stream(c), &buf, 1, conn_on_write);
    if (rc < 0) {
        log_debug("write: %s", uv_strerror(rc));
        conn_close(c);
        return;
    }
    c->state = CONN_WRITING;
}

/* An injected reset: RST rather than FIN (SO_LINGER 0), as a crashed or
 * overloaded upstream gives; nothing of the answer is sent. */
static void conn_reset(conn_t *c)
{
    uv_os_fd_t fd;
    struct linger now = {.l_onoff = 1, .l_linger = 0};
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof now) < 0)
        log_debug("setsockopt(SO_LINGER): %s", strerror(errno));
    conn_close(c);
}

/* server->delays says c's deadline has come. */
static void conn_on_due(delayed_t *d)
{
    conn_t *c = (conn_t *)((char *)d - offsetof(conn_t, delayed));
    /* The heap hands out a deadline only once the clock has reached it, so
     * the answer is never early; how late it is goes to GET /stats,
     * measured just before the write; calls_total counts the answer too. */
    if (c->fault == FAULT_RESET) {
        conn_reset(c);
        return;
    }
    uint64_t now_ns = clock_now_ns();
    stats_record_lateness(&c->server->stats, now_ns - d->deadline.due_ns);
    conn_send(c);
    if (c->state == CONN_READING)
        conn_parse_buffered(c);
}

static void conn_answer(conn_t *c, const answer_t *answer, int keep_alive)
{
    int n = http_response_format(c->out, sizeof c->out, answer->status, "application/json",
                                 answer->body, answer->body_len, keep_alive);
    if (n < 0) {
        log_error("response for status %d does not fit in %zu bytes", answer->status,
                  sizeof c->out);
        conn_close(c);
        return;
    }
    /* HEAD (405): the head of the answer alone (http_response.h). */
    c->out_len = c->req.method == HTTP_HEAD ? http_response_head_len(c->out, (size_t)n)
                                            : (size_t)n;
    c->keep_alive = keep_alive;
    c->status = answer->status;
    /* The clock the deadlines are kept on (the timerfd's); read here, after
     * the parse, not at the start of the loop iteration. */
    c->parsed_ns = clock_now_ns();
    c->fault = answer->fault;
    if (c->fault == FAULT_HANG) {
        /* Never answered: the request waits until its client leaves. */
        c->state = CONN_DELAYING;
        return;
    }
    if (answer->delay_ns == 0 && c->fault == FAULT_NONE) {
        conn_send(c);
        return;
    }
    c->delayed.deadline.due_ns = c->parsed_ns + answer->delay_ns;
    int rc = delay_timer_add(&c->server->delays, &c->delayed.deadline);
    if (rc < 0) {
        log_error("waiting request: %s", strerror(-rc));
        conn_close(c);
        return;
    }
    c->state = CONN_DELAYING;
}

static void conn_reject(conn_t *c, int status, const char *message)
{
    answer_t answer;
    /* llhttp's reason goes to the log only: the body's message must need no
     * JSON escaping, so it is one of ours. */
    log_debug("rejected with %d: %s", status, c->req.error != NULL ? c->req.error : "?");
    route_error(&answer, status, message);
    conn_answer(c, &answer, 0); /* the byte stream can no longer be trusted */
}

/* Parse data until a request must wait (a timer, a write), the connection
 * ends, or the bytes run out. Returns how many bytes were used; the rest
 * belongs to a later request. */
static int conn_upgrade_h2c(conn_t *c, const char *rest, size_t rest_len);

static size_t conn_parse(conn_t *c, const char *data, size_t len)
{
    size_t used = 0;
    while (c->state == CONN_READING && used < len) {
        size_t consumed = 0;
        http_req_status_t st = http_request_feed(&c->req, data + used, len - used, &consumed);
        used += consumed;
        if (st == HTTP_REQ_DONE) {
            /* Granted, the rest is the session's (all used); refused, the
             * request is answered over HTTP/1.1. */
            if (conn_wants_h2c(c) && conn_upgrade_h2c(c, data + used, len - used))
                return len;
            answer_t answer;
            route_request(&c->req, c->server, &answer);
            conn_answer(c, &answer, c->req.keep_alive);
        } else if (st == HTTP_REQ_BAD) {
            conn_reject(c, 400, "malformed request");
        } else if (st == HTTP_REQ_TOO_LARGE) {
            conn_reject(c, 431, "request header block too large");
        }
    }
    return used;
}

static void conn_parse_buffered(conn_t *c)
{
    size_t used = c->in_len > 0 ? conn_parse(c, c->in, c->in_len) : 0;
    if (c->state == CONN_CLOSING || c->state == CONN_H2)
        return;
    if (c->state == CONN_LINGERING) {
        c->in_len = 0; /* nothing after the last answer matters */
        return;
    }
    if (used > 0) {
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
    }
    if (c->in_len == 0) {
        /* Pipelining is rare: give the buffer back rather than keep up to
         * CONN_INPUT_MAX_BYTES per connection for good. */
        free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
    if (c->in_len < CONN_INPUT_MAX_BYTES && conn_start_reading(c) < 0)
        conn_close(c);
}

/* The rest of the connection is HTTP/2 (rc: how creating c->h2 went):
 * hand its next bytes (data) to the session. */
static void conn_run_h2(conn_t *c, int rc, const char *data, size_t len)
{
    if (rc == 0) {
        c->state = CONN_H2;
        rc = h2_session_recv(c->h2, data, len);
    }
    /* data may be c->in: released only now. */
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_cap = 0;
    if (rc < 0) {
        log_debug("h2c connection: %s", rc == -ENOMEM ? "out of memory" : "closed on error");
        conn_close(c);
    }
}

/* h2c with prior knowledge: data starts with the preface. */
static void conn_start_h2(conn_t *c, const char *data, size_t len)
{
    conn_run_h2(c, h2_session_new(c->server, c, conn_stream(c), &c->h2), data, len);
}

/* c->req, just parsed, asks for h2c (conn_wants_h2c); rest is what came
 * after it (the client's preface, if it did not wait for our 101). Returns
 * 1 when c is h2c now (or closing), 0 when HTTP2-Settings is no valid
 * SETTINGS payload: the request is to be answered over HTTP/1.1. */
static int conn_upgrade_h2c(conn_t *c, const char *rest, size_t rest_len)
{
    conn_upgrade_t *u = &c->upgrade;
    int rc = h2_session_upgrade(c->server, c, conn_stream(c), u->settings, u->settings_len,
                                &c->req, &c->h2);
    if (rc == -EINVAL) {
        log_debug("h2c upgrade refused: bad HTTP2-Settings");
        return 0;
    }
    log_debug("%s %s: upgraded to h2c", llhttp_method_name(c->req.method), c->req.url);
    conn_run_h2(c, rc, rest, rest_len);
    return 1;
}

/* A new connection's first bytes: the h2 preface (RFC 9113 3.4) makes it
 * h2c, anything else is HTTP/1.1. A prefix of the preface is kept in `in`
 * until it either completes or stops matching. Returns 0 when data is
 * HTTP/1.1 to parse as usual, 1 when it has been dealt with here. */
static int conn_sniff(conn_t *c, const char *data, size_t len)
{
    if (c->in_len > 0) {
        if (conn_keep_input(c, data, len) < 0) {
            conn_close(c);
            return 1;
        }
        data = c->in;
        len = c->in_len;
    }
    h2_preface_t match = h2_preface_match(data, len);
    if (match == H2_PREFACE_PARTIAL) {
        if (c->in_len == 0 && conn_keep_input(c, data, len) < 0)
            conn_close(c);
        return 1;
    }
    c->sniffing = 0;
    if (match == H2_PREFACE_YES) {
        conn_start_h2(c, data, len);
        return 1;
    }
    if (c->in_len == 0)
        return 0; /* the usual case: a first read that is not h2 at all */
    conn_parse_buffered(c);
    return 1;
}

static void conn_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = stream->data;
    /* Under load the loop works through long batches of reads; answers that
     * fall due meanwhile go out now rather than after the batch. */
    delay_timer_run(&c->server->delays);
    if (nread == 0)
        return; /* EAGAIN */
    if (nread < 0) {
        /* EOF or an error. A client that leaves while its request waits has
         * given up on it: drop the request at once (as nginx and Go's
         * net/http do) rather than hold its memory until the deadline. A
         * half-close looks the same from here and is treated the same. */
        if (nread != UV_EOF)
            log_debug("read: %s", uv_strerror((int)nread));
        conn_close(c);
        return;
    }
    size_t len = (size_t)nread;
    if (c->state == CONN_H2) {
        if (h2_session_recv(c->h2, buf->base, len) < 0)
            conn_close(c);
        return;
    }
    if (c->sniffing && c->state == CONN_READING && conn_sniff(c, buf->base, len))
        return;
    size_t used = 0;
    if (c->state == CONN_READING && c->in_len == 0)
        used = conn_parse(c, buf->base, len); /* the usual case: no copy */
    if (c->state == CONN_LINGERING || c->state == CONN_CLOSING || used == len)
        return;
    if (conn_keep_input(c, buf->base + used, len - used) < 0) {
        log_warn("out of memory for %zu pipelined bytes", len - used);
        conn_close(c);
        return;
    }
    if (c->state == CONN_READING)
        conn_parse_buffered(c);
}

/* A new connection of s, reading nothing yet. Returns 0 with *out, or a
 * negative libuv error (nothing is left open). */
static int conn_new(server_t *s, conn_t **out)
{
    *out = NULL;
    conn_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return UV_ENOMEM;
    c->server = s;
    c->state = CONN_READING;
    c->sniffing = 1;
    deadline_init(&c->delayed.deadline);
    c->delayed.due_cb = conn_on_due;
    http_request_init(&c->req);
    conn_hook_parser(c);
    /* uv_timer_init cannot fail; uv_tcp_init cannot either for AF_UNSPEC,
     * but is checked: open_handles tells conn_close what to close. */
    (void)uv_timer_init(&s->loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 1;
    conn_link(s, c);
    int rc = uv_tcp_init(&s->loop, &c->tcp);
    if (rc < 0) {
        conn_close(c);
        return rc;
    }
    c->tcp.data = c;
    c->open_handles = 2;
    *out = c;
    return 0;
}

int conn_accept(server_t *s, uv_stream_t *listener)
{
    conn_t *c;
    int rc = conn_new(s, &c);
    if (rc == 0) {
        rc = uv_accept(listener, conn_stream(c));
        if (rc < 0)
            conn_close(c);
    }
    if (rc < 0)
        return rc; /* the listener's trouble: the server pauses accepting */
    /* Answers are single small writes; Nagle would hold a pipelined one
     * back for the client's delayed ACK. */
    rc = uv_tcp_nodelay(&c->tcp, 1);
    if (rc == 0)
        rc = conn_start_reading(c);
    if (rc < 0) {
        log_debug("new connection: %s", uv_strerror(rc));
        conn_close(c); /* this client's trouble only */
    }
    return 0;
}

int conn_open(server_t *s, uv_os_sock_t fd)
{
    conn_t *c;
    int rc = conn_new(s, &c);
    if (rc < 0) {
        (void)close(fd);
        return rc;
    }
    rc = uv_tcp_open(&c->tcp, fd);
    if (rc < 0)
        (void)close(fd); /* not libuv's yet */
    else
        rc = conn_start_reading(c);
    if (rc < 0)
        conn_close(c);
    return rc;
}
