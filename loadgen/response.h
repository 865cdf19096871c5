/* One HTTP/1.1 response as the HTTP worker reads it off a connection
 * (llhttp), fed as it arrives. Apart from the worker's loop so that the
 * fuzz harness (fuzz/fuzz_loadgen_response.c) drives the same code from a
 * buffer. loadgen never pipelines: a byte past the end of the response
 * answers nothing. */
#ifndef LOADGEN_RESPONSE_H
#define LOADGEN_RESPONSE_H

#include <stddef.h>

#include "llhttp.h"

typedef struct lg_response {
    llhttp_t parser; /* status code and keep-alive: llhttp's getters */
    int done;        /* the message is whole (on_message_complete) */
} lg_response_t;

typedef enum {
    LG_RESPONSE_MORE, /* not whole yet: read on */
    LG_RESPONSE_DONE, /* whole, and the bytes ended with it */
    LG_RESPONSE_JUNK, /* whole, with bytes after it: do not reuse the connection */
    LG_RESPONSE_BAD,  /* malformed: llhttp's errno and reason say why */
} lg_response_status_t;

/* r must stay put afterwards: the parser points at it. */
void lg_response_init(lg_response_t *r);
/* Before each request's response. */
void lg_response_reset(lg_response_t *r);
lg_response_status_t lg_response_feed(lg_response_t *r, const char *data, size_t len);
/* The connection ended: 1 when that made the response whole (a body that
 * runs until the close), 0 when it was cut short. */
int lg_response_eof(lg_response_t *r);

#endif
