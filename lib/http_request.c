#include "http_request.h"

#include <errno.h>
#include <string.h>

/* Per header line: ": " and CRLF around the field and value llhttp reports. */
#define HEADER_LINE_OVERHEAD 4
#define HEADER_RAW_SLACK 64

static http_request_t *request_of(llhttp_t *p) { return (http_request_t *)p->data; }

static int count_header_bytes(http_request_t *req, size_t n)
{
    req->header_bytes += n;
    if (req->header_bytes > HTTP_MAX_HEADER_BYTES) {
        req->error = "request header block too large";
        return HPE_USER;
    }
    return HPE_OK;
}

static int on_message_begin(llhttp_t *p)
{
    http_request_t *req = request_of(p);
    req->url_len = 0;
    req->url[0] = '\0';
    req->header_bytes = 0;
    req->headers_done = 0;
    req->done = 0;
    req->error = NULL;
    return HPE_OK;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    http_request_t *req = request_of(p);
    if (req->url_len + len > HTTP_MAX_URL_BYTES) {
        /* An over-long request line is part of an over-long header block. */
        req->header_bytes = HTTP_MAX_HEADER_BYTES + 1;
        req->error = "request target too long";
        return HPE_USER;
    }
    memcpy(req->url + req->url_len, at, len);
    req->url_len += len;
    req->url[req->url_len] = '\0';
    return count_header_bytes(req, len);
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    (void)at;
    return count_header_bytes(request_of(p), len);
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    (void)at;
    return count_header_bytes(request_of(p), len);
}

static int on_header_value_complete(llhttp_t *p)
{
    return count_header_bytes(request_of(p), HEADER_LINE_OVERHEAD);
}

static int on_headers_complete(llhttp_t *p)
{
    http_request_t *req = request_of(p);
    req->headers_done = 1;
    req->method = p->method;
    req->keep_alive = llhttp_should_keep_alive(p);
    /* Pause so http_request_feed sees where the header block ends and can
     * count its raw bytes, blanks included (no callback reports those). */
    return HPE_PAUSED;
}

static int on_message_complete(llhttp_t *p)
{
    http_request_t *req = request_of(p);
    req->done = 1;
    /* Stop here so the caller answers before the next pipelined request. */
    return HPE_PAUSED;
}

void http_request_init(http_request_t *req)
{
    memset(req, 0, sizeof *req);
    llhttp_settings_init(&req->settings);
    req->settings.on_message_begin = on_message_begin;
    req->settings.on_url = on_url;
    req->settings.on_header_field = on_header_field;
    req->settings.on_header_value = on_header_value;
    req->settings.on_header_value_complete = on_header_value_complete;
    req->settings.on_headers_complete = on_headers_complete;
    req->settings.on_message_complete = on_message_complete;
    llhttp_init(&req->parser, HTTP_REQUEST, &req->settings);
    req->parser.data = req;
}

void http_request_reset(http_request_t *req)
{
    llhttp_reset(&req->parser);
    req->parser.data = req;
    req->url_len = 0;
    req->url[0] = '\0';
    req->header_bytes = 0;
    req->raw_header_bytes = 0;
    req->headers_done = 0;
    req->done = 0;
    req->error = NULL;
}

http_req_status_t http_request_feed(http_request_t *req, const char *data,
                                    size_t len, size_t *consumed)
{
    *consumed = 0;
    if (len == 0)
        return HTTP_REQ_INCOMPLETE;
    for (;;) {
        int in_headers = !req->headers_done;
        const char *from = data + *consumed;
        llhttp_errno_t err = llhttp_execute(&req->parser, from, len - *consumed);
        const char *stop = err == HPE_OK ? data + len : llhttp_get_error_pos(&req->parser);
        *consumed += (size_t)(stop - from);
        /* Every byte before the end of the header block counts, whether or
         * not a callback reported it (blanks around the value or in the
         * request line, a line with no end). The slack covers the request
         * line's method, spaces and version, which the callbacks do not
         * count. */
        if (in_headers) {
            req->raw_header_bytes += (size_t)(stop - from);
            if (req->raw_header_bytes > HTTP_MAX_HEADER_BYTES + HEADER_RAW_SLACK) {
                req->header_bytes = HTTP_MAX_HEADER_BYTES + 1;
                req->error = "request header block too large";
                break;
            }
        }
        if (err == HPE_OK)
            return HTTP_REQ_INCOMPLETE;
        if (err == HPE_PAUSED && req->done)
            return HTTP_REQ_DONE;
        if (err == HPE_PAUSED && in_headers && req->headers_done) {
            /* Paused by on_headers_complete: measured, go on. The rest may
             * be empty: a request without a body completes all the same. */
            llhttp_resume(&req->parser);
            continue;
        }
        break;
    }
    *consumed = len;
    /* Checked by value, not by error code: llhttp reports our callbacks'
     * refusals as HPE_USER from on_url/on_header_* but as
     * HPE_CB_HEADER_VALUE_COMPLETE from on_header_value_complete. */
    if (req->header_bytes > HTTP_MAX_HEADER_BYTES)
        return HTTP_REQ_TOO_LARGE;
    if (req->error == NULL)
        req->error = llhttp_get_error_reason(&req->parser);
    if (req->error == NULL)
        req->error = llhttp_errno_name(llhttp_get_errno(&req->parser));
    return HTTP_REQ_BAD;
}

int http_request_path_is(const http_request_t *req, const char *path)
{
    size_t n = strcspn(req->url, "?#");
    return strlen(path) == n && memcmp(req->url, path, n) == 0;
}

int http_request_query(const http_request_t *req, const char *name, char *out,
                       size_t cap)
{
    const char *q = strchr(req->url, '?');
    if (q == NULL)
        return -ENOENT;
    size_t name_len = strlen(name);
    for (const char *p = q + 1; *p != '\0' && *p != '#';) {
        size_t item_len = strcspn(p, "&#");
        if (item_len > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
            size_t value_len = item_len - name_len - 1;
            if (value_len + 1 > cap)
                return -ENOSPC;
            memcpy(out, p + name_len + 1, value_len);
            out[value_len] = '\0';
            return (int)value_len;
        }
        if (item_len == name_len && strncmp(p, name, name_len) == 0) {
            if (cap < 1)
                return -ENOSPC;
            out[0] = '\0';
            return 0;
        }
        p += item_len;
        if (*p == '&')
            p++;
    }
    return -ENOENT;
}
