/* HTTP/2 over cleartext (h2c) on the HTTP/1.1 port, with prior knowledge
 * (RFC 9113 3.3) or by an HTTP/1.1 Upgrade (RFC 7540 3.2). Why: a server
 * under test with thousands of upstream calls in flight would need a socket
 * each over HTTP/1.1, past its open-file limit; over h2c libcurl
 * multiplexes them as streams of few connections.
 *
 * conn.c hands a connection over when its first bytes are the preface, or
 * after an HTTP/1.1 request asking for the upgrade (h2_session_upgrade:
 * the 101 goes out first, then our SETTINGS, and that request becomes
 * stream 1, answered like any other; the client's preface follows);
 * nghttp2 then does the framing, flow control and protocol errors (it
 * answers those with GOAWAY), and this file maps each stream onto the same
 * routes (route.c) and the same deadlines (server->delays) as an HTTP/1.1
 * request:
 *
 *   request HEADERS  routed at once: the answer is known
 *   END_STREAM       the request is whole: answer now, or queue the
 *                    stream's deadline in server->delays
 *   deadline due     lateness counted for /stats, response submitted
 *   stream closed    (answer sent, RST_STREAM, or connection gone) its
 *                    deadline leaves the heap and it is freed
 *
 * Output: nghttp2_session_mem_send into one buffer per session, then
 * uv_try_write and, for what the kernel does not take, one uv_write. The
 * answers a run of the delay timer makes are written once it is done, a
 * write per session (h2_flush_answered): at c=10,000 a session carries
 * a thousand streams, many due in the same millisecond, and a write per
 * answer had slowapi's answers 0.5 s late with a CPU a third idle. While
 * that write is pending the session neither reads nor pulls frames from
 * nghttp2: the client's TCP window holds it back, and memory stays bounded
 * (the buffer, plus what nghttp2 queues for at most
 * H2_MAX_CONCURRENT_STREAMS streams). */
#include "slowapi.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "clock.h"
#include "log.h"

#define H2_MAX_CONCURRENT_STREAMS 1000
/* Frames are gathered up to this much before a write: a burst of answers
 * due together goes out in one system call. */
#define H2_OUT_FLUSH_BYTES (16 * 1024)
#define H2_OUT_MIN_ALLOC_BYTES 1024
/* An upgrade's HTTP2-Settings, decoded: 6 bytes a setting. A client sends
 * a handful (curl 3); more than this many is refused, not truncated. */
#define H2_UPGRADE_MAX_SETTINGS 32
#define H2_SETTING_BYTES 6

typedef struct h2_stream_s h2_stream_t;

struct h2_stream_s {
    delayed_t delayed;        /* its deadline in server->delays, while it waits */
    h2_session_t *h;
    h2_stream_t *prev, *next; /* h->streams */
    int32_t id;
    int method;               /* llhttp_method_t, -1 for one llhttp does not know */
    uint64_t parsed_ns;       /* clock_now_ns() when the request was whole */
    size_t body_sent;
    answer_t answer;
};

struct h2_session_s {
    nghttp2_session *ng;
    server_t *server;
    conn_t *conn;
    uv_stream_t *stream;
    uv_write_t write_req;
    h2_stream_t *streams;     /* every stream begun and not closed */
    /* The request header block being received. Blocks cannot interleave
     * (RFC 9113 4.3), so one per session is enough; route_request reads
     * only its url and method. */
    http_request_t req;
    size_t req_header_bytes;
    int req_too_large;
    char *out;                /* frames from nghttp2 not yet with the kernel */
    size_t out_len, out_cap;
    int writing;              /* a uv_write of out is pending */
    int answered;             /* on server->h2_answered: answers to write */
    h2_session_t *answered_prev, *answered_next;
    int ended;                /* GOAWAY done: the connection lingers, then closes */
    int closing;              /* the connection is closing: touch it no more */
};

h2_preface_t h2_preface_match(const char *data, size_t len)
{
    size_t n = len < NGHTTP2_CLIENT_MAGIC_LEN ? len : NGHTTP2_CLIENT_MAGIC_LEN;
    if (memcmp(data, NGHTTP2_CLIENT_MAGIC, n) != 0)
        return H2_PREFACE_NO;
    return n == NGHTTP2_CLIENT_MAGIC_LEN ? H2_PREFACE_YES : H2_PREFACE_PARTIAL;
}

/* :method to llhttp's numbering, which route_request compares with. */
static int h2_method(const uint8_t *value, size_t len)
{
#define H2_METHOD_IF(num, name, string)                                                       \
    if (len == sizeof #string - 1 && memcmp(value, #string, len) == 0)                       \
        return num;
    HTTP_METHOD_MAP(H2_METHOD_IF)
#undef H2_METHOD_IF
    return -1;
}

static void h2_stream_free(h2_session_t *h, h2_stream_t *st)
{
    delay_timer_cancel(&h->server->delays, &st->delayed.deadline);
    if (st->prev != NULL)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    free(st);
}

/* Stop every waiting stream's deadline: nothing more will be answered. */
static void h2_cancel_deadlines(h2_session_t *h)
{
    for (h2_stream_t *st = h->streams; st != NULL; st = st->next)
        delay_timer_cancel(&h->server->delays, &st->delayed.deadline);
}

static int h2_out_append(h2_session_t *h, const uint8_t *data, size_t len)
{
    if (h->out_len + len > h->out_cap) {
        size_t cap = h->out_cap > 0 ? h->out_cap : H2_OUT_MIN_ALLOC_BYTES;
        while (cap < h->out_len + len)
            cap *= 2;
        char *out = realloc(h->out, cap);
        if (out == NULL)
            return -ENOMEM;
        h->out = out;
        h->out_cap = cap;
    }
    memcpy(h->out + h->out_len, data, len);
    h->out_len += len;
    return 0;
}

static void h2_on_write(uv_write_t *req, int status);

/* Pull frames from nghttp2 and write them until nghttp2 has no more or the
 * kernel takes no more (then h->writing). Returns 0 or a negative error. */
static int h2_flush(h2_session_t *h)
{
    while (!h->writing) {
        while (h->out_len < H2_OUT_FLUSH_BYTES) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(h->ng, &data);
            if (n < 0) {
                log_debug("h2: nghttp2_session_mem_send: %s", nghttp2_strerror((int)n));
                return -EPROTO;
            }
            if (n == 0)
                break;
            if (h2_out_append(h, data, (size_t)n) < 0)
                return -ENOMEM;
        }
        if (h->out_len == 0)
            return 0;
        uv_buf_t buf = uv_buf_init(h->out, (unsigned int)h->out_len);
        int n = uv_try_write(h->stream, &buf, 1);
        if (n >= 0 && (size_t)n == h->out_len) {
            h->out_len = 0;
            continue;
        }
        if (n < 0 && n != UV_EAGAIN) {
            log_debug("h2: write: %s", uv_strerror(n));
            return n;
        }
        size_t done = n > 0 ? (size_t)n : 0;
        buf = uv_buf_init(h->out + done, (unsigned int)(h->out_len - done));
        int rc = uv_write(&h->write_req, h->stream, &buf, 1, h2_on_write);
        if (rc < 0) {
            log_debug("h2: write: %s", uv_strerror(rc));
            return rc;
        }
        h->writing = 1;
    }
    return 0;
}

/* After anything that may have queued frames: write them, then read on,
 * hold reads back while a write is pending, or end the connection once
 * nghttp2 wants neither to read nor to write (GOAWAY sent or received and
 * no stream left). Returns 0 or a negative error: close the connection. */
static int h2_pump(h2_session_t *h)
{
    if (h->ended || h->closing)
        return 0;
    int rc = h2_flush(h);
    if (rc < 0)
        return rc;
    if (h->writing) {
        conn_stop_reading(h->conn);
        return 0;
    }
    if (!nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng)) {
        h->ended = 1;
        h2_cancel_deadlines(h);
        conn_linger(h->conn);
        return 0;
    }
    return conn_start_reading(h->conn);
}

static void h2_on_write(uv_write_t *req, int status)
{
    h2_session_t *h = req->data;
    if (h->closing)
        return; /* UV_ECANCELED: conn_close was first */
    h->writing = 0;
    h->out_len = 0;
    if (status < 0) {
        log_debug("h2: write: %s", uv_strerror(status));
        conn_close(h->conn);
        return;
    }
    if (h2_pump(h) < 0)
        conn_close(h->conn);
}

static ssize_t h2_on_read_body(nghttp2_session *ng, int32_t stream_id, uint8_t *buf,
                               size_t length, uint32_t *data_flags, nghttp2_data_source *source,
                               void *user_data)
{
    (void)ng;
    (void)stream_id;
    (void)user_data;
    h2_stream_t *st = source->ptr;
    size_t left = st->answer.body_len - st->body_sent;
    size_t n = left < length ? left : length;
    memcpy(buf, st->answer.body + st->body_sent, n);
    st->body_sent += n;
    if (st->body_sent == st->answer.body_len)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* Queue st's response (nghttp2 copies the header values). Returns 0 or a
 * negative nghttp2 error. */
static int h2_stream_answer(h2_session_t *h, h2_stream_t *st)
{
    const answer_t *a = &st->answer;
    if (log_enabled(LOG_DEBUG)) {
        const char *method = st->method >= 0 ? llhttp_method_name(st->method) : "-";
        log_debug("h2 stream %d: %s -> %d after %.3f ms", (int)st->id, method, a->status,
                  ns_to_ms(clock_now_ns() - st->parsed_ns));
    }
    char status[16], length[32];
    snprintf(status, sizeof status, "%d", a->status);
    snprintf(length, sizeof length, "%zu", a->body_len);
    nghttp2_nv headers[] = {
        {(uint8_t *)":status", (uint8_t *)status, 7, strlen(status), NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"content-type", (uint8_t *)"application/json", 12, 16, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"content-length", (uint8_t *)length, 14, strlen(length),
         NGHTTP2_NV_FLAG_NONE},
    };
    nghttp2_data_provider body = {.source.ptr = st, .read_callback = h2_on_read_body};
    /* A HEAD answer (405) has the headers of the body and no body. */
    int with_body = a->body_len > 0 && st->method != HTTP_HEAD;
    int rv = nghttp2_submit_response(h->ng, st->id, headers, sizeof headers / sizeof headers[0],
                                     with_body ? &body : NULL);
    if (rv != 0)
        log_error("h2: nghttp2_submit_response: %s", nghttp2_strerror(rv));
    return rv;
}

/* server->delays says st's deadline has come. */
static void h2_stream_on_due(delayed_t *d)
{
    h2_stream_t *st = (h2_stream_t *)((char *)d - offsetof(h2_stream_t, delayed));
    h2_session_t *h = st->h;
    /* Never early (the heap hands a deadline out only once it has passed);
     * how late goes to /stats, as for HTTP/1.1, just before the write, and
     * calls_total counts the answer as for HTTP/1.1. An injected reset
     * resets the stream alone (the connection carries other calls) and is
     * no answer. */
    int rv;
    if (st->answer.fault == FAULT_RESET) {
        rv = nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    } else {
        stats_record_lateness(&h->server->stats, clock_now_ns() - d->deadline.due_ns);
        rv = h2_stream_answer(h, st);
    }
    if (rv != 0) {
        conn_close(h->conn);
        return;
    }
    if (h->answered)
        return;
    h->answered = 1;
    h->answered_prev = NULL;
    h->answered_next = h->server->h2_answered;
    if (h->answered_next != NULL)
        h->answered_next->answered_prev = h;
    h->server->h2_answered = h;
}

static void h2_answered_unlink(h2_session_t *h)
{
    if (!h->answered)
        return;
    if (h->answered_prev != NULL)
        h->answered_prev->answered_next = h->answered_next;
    else
        h->server->h2_answered = h->answered_next;
    if (h->answered_next != NULL)
        h->answered_next->answered_prev = h->answered_prev;
    h->answered = 0;
}

void h2_flush_answered(server_t *s)
{
    h2_session_t *h;
    while ((h = s->h2_answered) != NULL) {
        h2_answered_unlink(h);
        if (h2_pump(h) < 0)
            conn_close(h->conn);
    }
}

/* The request on st is whole (END_STREAM): answer, now or at its deadline.
 * Returns 0 or an nghttp2 error for the callback to return. */
static int h2_stream_complete(h2_session_t *h, h2_stream_t *st)
{
    st->parsed_ns = clock_now_ns(); /* the deadlines' clock, as conn.c */
    if (st->answer.fault == FAULT_HANG)
        return 0; /* never answered: the stream waits until it is reset or closed */
    if (st->answer.delay_ns == 0 && st->answer.fault == FAULT_NONE)
        return h2_stream_answer(h, st) == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
    st->delayed.deadline.due_ns = st->parsed_ns + st->answer.delay_ns;
    int rc = delay_timer_add(&h->server->delays, &st->delayed.deadline);
    if (rc == 0)
        return 0;
    /* The connection is fine; this one request cannot wait. */
    log_error("h2: waiting request: %s", strerror(-rc));
    if (nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR) != 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return 0;
}

/* A stream for a request on stream id, in h->streams. NULL: no memory. */
static h2_stream_t *h2_stream_new(h2_session_t *h, int32_t id)
{
    h2_stream_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    st->h = h;
    st->id = id;
    st->method = -1;
    deadline_init(&st->delayed.deadline);
    st->delayed.due_cb = h2_stream_on_due;
    st->next = h->streams;
    if (h->streams != NULL)
        h->streams->prev = st;
    h->streams = st;
    return st;
}

static int h2_on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user_data)
{
    h2_session_t *h = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2_stream_t *st = h2_stream_new(h, frame->hd.stream_id);
    if (st == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* nghttp2 resets the stream */
    if (nghttp2_session_set_stream_user_data(ng, st->id, st) != 0) {
        h2_stream_free(h, st);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    h->req.url[0] = '\0';
    h->req.url_len = 0;
    h->req.method = -1;
    h->req_header_bytes = 0;
    h->req_too_large = 0;
    return 0;
}

static int h2_on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
                        size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                        void *user_data)
{
    (void)ng;
    (void)flags;
    h2_session_t *h = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* trailers: nothing we read */
    /* HTTP/1.1's limit on the header block, counted the same way (names
     * and values), so that both protocols answer 431 alike. */
    h->req_header_bytes += namelen + valuelen;
    if (h->req_header_bytes > HTTP_MAX_HEADER_BYTES)
        h->req_too_large = 1;
    if (h->req_too_large)
        return 0;
    if (namelen == 5 && memcmp(name, ":path", 5) == 0) {
        if (valuelen > HTTP_MAX_URL_BYTES) {
            h->req_too_large = 1;
            return 0;
        }
        memcpy(h->req.url, value, valuelen);
        h->req.url[valuelen] = '\0';
        h->req.url_len = valuelen;
    } else if (namelen == 7 && memcmp(name, ":method", 7) == 0) {
        h->req.method = h2_method(value, valuelen);
    }
    return 0;
}

static int h2_on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user_data)
{
    h2_session_t *h = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    h2_stream_t *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (st == NULL)
        return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        /* nghttp2 has checked the pseudo-headers: :method and :path are
         * there. A body, if any, is not read: no route takes one. */
        st->method = h->req.method;
        if (h->req_too_large)
            route_error(&st->answer, 431, "request header block too large");
        else
            route_request(&h->req, h->server, &st->answer);
    }
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
        return h2_stream_complete(h, st);
    return 0;
}

/* Answered, reset by the client, or dropped with the session. */
static int h2_on_stream_close(nghttp2_session *ng, int32_t stream_id, uint32_t error_code,
                              void *user_data)
{
    (void)error_code;
    h2_stream_t *st = nghttp2_session_get_stream_user_data(ng, stream_id);
    if (st != NULL)
        h2_stream_free(user_data, st);
    return 0;
}

int h2_session_new(server_t *s, conn_t *c, uv_stream_t *stream, h2_session_t **out)
{
    *out = NULL;
    h2_session_t *h = calloc(1, sizeof *h);
    if (h == NULL)
        return -ENOMEM;
    h->server = s;
    h->conn = c;
    h->stream = stream;
    h->write_req.data = h;
    h->req.keep_alive = 1;
    h->req.headers_done = 1;
    h->req.done = 1;

    nghttp2_session_callbacks *callbacks;
    int rv = nghttp2_session_callbacks_new(&callbacks);
    if (rv != 0)
        goto error;
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, h2_on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, h2_on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, h2_on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, h2_on_stream_close);
    rv = nghttp2_session_server_new(&h->ng, callbacks, h);
    nghttp2_session_callbacks_del(callbacks);
    if (rv != 0)
        goto error;
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_CONCURRENT_STREAMS},
    };
    rv = nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, settings,
                                 sizeof settings / sizeof settings[0]);
    if (rv != 0)
        goto error;
    *out = h;
    return 0;
error:
    /* Only out-of-memory can fail here. */
    log_error("h2: new session: %s", nghttp2_strerror(rv));
    nghttp2_session_del(h->ng);
    free(h);
    return -ENOMEM;
}

/* base64url (RFC 4648 5) of HTTP2-Settings, '=' padding allowed, not
 * needed. Returns the decoded length, or -1: not base64url, or over cap. */
static ssize_t h2_base64url_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    while (len > 0 && in[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return -1; /* 6 bits cannot end a byte */
    uint32_t bits = 0;
    int nbits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        uint32_t v;
        if (ch >= 'A' && ch <= 'Z')
            v = (uint32_t)(ch - 'A');
        else if (ch >= 'a' && ch <= 'z')
            v = (uint32_t)(ch - 'a' + 26);
        else if (ch >= '0' && ch <= '9')
            v = (uint32_t)(ch - '0' + 52);
        else if (ch == '-')
            v = 62;
        else if (ch == '_')
            v = 63;
        else
            return -1;
        bits = (bits << 6) | v;
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (uint8_t)(bits >> nbits);
            bits &= (1u << nbits) - 1;
        }
    }
    return (ssize_t)n;
}

/* Is payload (a SETTINGS frame's) well formed, with values nghttp2
 * accepts? nghttp2_pack_settings_payload checks the values as it would on
 * a received SETTINGS frame, before anything is sent. */
static int h2_settings_valid(const uint8_t *payload, size_t len)
{
    if (len % H2_SETTING_BYTES != 0 || len / H2_SETTING_BYTES > H2_UPGRADE_MAX_SETTINGS)
        return 0;
    nghttp2_settings_entry iv[H2_UPGRADE_MAX_SETTINGS];
    size_t niv = len / H2_SETTING_BYTES;
    for (size_t i = 0; i < niv; i++) {
        const uint8_t *p = payload + i * H2_SETTING_BYTES;
        iv[i].settings_id = (int32_t)((uint32_t)p[0] << 8 | p[1]);
        iv[i].value = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 8 | p[5];
    }
    uint8_t packed[H2_UPGRADE_MAX_SETTINGS * H2_SETTING_BYTES];
    return nghttp2_pack_settings_payload(packed, sizeof packed, iv, niv) >= 0;
}

int h2_session_upgrade(server_t *s, conn_t *c, uv_stream_t *stream, const char *settings_b64,
                       size_t settings_b64_len, const http_request_t *req, h2_session_t **out)
{
    static const char switching[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                    "Connection: Upgrade\r\n"
                                    "Upgrade: h2c\r\n\r\n";
    *out = NULL;
    uint8_t payload[H2_UPGRADE_MAX_SETTINGS * H2_SETTING_BYTES];
    ssize_t payload_len = h2_base64url_decode(settings_b64, settings_b64_len, payload,
                                              sizeof payload);
    if (payload_len < 0 || !h2_settings_valid(payload, (size_t)payload_len))
        return -EINVAL;
    h2_session_t *h;
    int rc = h2_session_new(s, c, stream, &h);
    if (rc < 0)
        return rc;
    /* The client's SETTINGS as if received (no ACK: RFC 7540 3.2.1), and
     * stream 1 opened half-closed (remote). Our SETTINGS is already queued:
     * after the 101 it is the first frame out, as RFC 7540 3.5 wants. */
    int rv = nghttp2_session_upgrade2(h->ng, payload, (size_t)payload_len,
                                      req->method == HTTP_HEAD, NULL);
    if (rv != 0) {
        log_debug("h2c upgrade: nghttp2_session_upgrade2: %s", nghttp2_strerror(rv));
        h2_session_free(h);
        return rv == NGHTTP2_ERR_NOMEM ? -ENOMEM : -EINVAL;
    }
    rc = -ENOMEM;
    h2_stream_t *st = h2_stream_new(h, 1);
    if (st == NULL)
        goto error;
    /* nghttp2_session_upgrade2 ignores a server's stream_user_data. */
    if (nghttp2_session_set_stream_user_data(h->ng, 1, st) != 0)
        goto error;
    if (h2_out_append(h, (const uint8_t *)switching, sizeof switching - 1) < 0)
        goto error;
    /* The request was whole before the 101: answered as one on h2. */
    st->method = req->method;
    route_request(req, s, &st->answer);
    if (h2_stream_complete(h, st) != 0)
        goto error;
    *out = h;
    return 0;
error:
    h2_session_free(h); /* and st with it */
    return rc;
}

int h2_session_recv(h2_session_t *h, const char *data, size_t len)
{
    if (h->ended || h->closing)
        return 0;
    ssize_t n = nghttp2_session_mem_recv(h->ng, (const uint8_t *)data, len);
    if (n < 0) {
        /* Only fatal errors come back (out of memory, a flood, our
         * callback's failure); protocol errors nghttp2 answers itself with
         * GOAWAY, and h2_pump ends the connection after it. */
        log_debug("h2: nghttp2_session_mem_recv: %s", nghttp2_strerror((int)n));
        return -EPROTO;
    }
    return h2_pump(h);
}

void h2_session_cancel(h2_session_t *h)
{
    h->closing = 1;
    h2_answered_unlink(h);
    h2_cancel_deadlines(h);
}

void h2_session_free(h2_session_t *h)
{
    if (h == NULL)
        return;
    h->closing = 1;
    h2_answered_unlink(h);
    /* nghttp2_session_del runs no callback: the streams still open are
     * ours to free after it. */
    nghttp2_session_del(h->ng);
    while (h->streams != NULL)
        h2_stream_free(h, h->streams);
    free(h->out);
    free(h);
}
