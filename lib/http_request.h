/* Incremental HTTP/1.x request parsing on llhttp, shared by slowapi and
 * every server variant. Feed bytes as they arrive; one request at a time. */
#ifndef LAB_HTTP_REQUEST_H
#define LAB_HTTP_REQUEST_H

#include <stddef.h>

#include <llhttp.h>

/* Request line plus headers, as nginx's default large_client_header_buffers. */
#define HTTP_MAX_HEADER_BYTES 8192
#define HTTP_MAX_URL_BYTES 2048

typedef enum {
    HTTP_REQ_INCOMPLETE, /* need more bytes */
    HTTP_REQ_DONE,       /* a whole request was parsed */
    HTTP_REQ_BAD,        /* malformed: answer 400 and close */
    HTTP_REQ_TOO_LARGE,  /* header block over the limit: answer 431 and close */
} http_req_status_t;

typedef struct http_request_s {
    llhttp_t parser;
    llhttp_settings_t settings;
    char url[HTTP_MAX_URL_BYTES + 1]; /* NUL-terminated request target */
    size_t url_len;
    size_t header_bytes;     /* bytes of request line and headers so far */
    size_t raw_header_bytes; /* bytes fed while the headers were unfinished */
    int method;          /* llhttp_method_t, e.g. HTTP_GET */
    int keep_alive;      /* the client allows another request on this connection */
    int headers_done;
    int done;
    const char *error;   /* why the request was rejected, for logs and bodies */
} http_request_t;

void http_request_init(http_request_t *req);

/* Forget the last request and get ready for the next one on the same
 * connection (HTTP keep-alive, pipelining). */
void http_request_reset(http_request_t *req);

/* Parse up to len bytes. *consumed is how many were used: after DONE the
 * remainder belongs to the next (pipelined) request. */
http_req_status_t http_request_feed(http_request_t *req, const char *data,
                                    size_t len, size_t *consumed);

/* 1 when the path part of the URL (before '?') is exactly path. */
int http_request_path_is(const http_request_t *req, const char *path);

/* Copy the value of query parameter name into out (NUL-terminated, not
 * percent-decoded). Returns its length, -ENOENT when absent, -ENOSPC when
 * it does not fit. */
int http_request_query(const http_request_t *req, const char *name, char *out,
                       size_t cap);

#endif
