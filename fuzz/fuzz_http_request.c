/* fuzz_http_request: the server variants' request path, from the bytes a
 * client sends to the bytes the server writes back. The input is one
 * connection, served by blocking_conn_run (services/core/blocking_conn.c:
 * lib/http_request.c parses, services/core/routes.c routes and answers),
 * the handler of the blocking models and the coroutines, through an I/O
 * table that reads from the buffer and keeps what is written; the event
 * loop model feeds the same parser and routes from its own loop. The first
 * byte says how the bytes arrive: bits 0-5 the size of each read (0: all
 * in one), bit 6 whether the client then goes quiet (the 408 path) rather
 * than closing, bit 7 whether the model keeps connections alive. /io makes
 * no upstream call: its fan-out ends 200, 502 and 504 in turn; /cpu runs
 * 10 iterations. Every response must be a whole HTTP/1.1 response whose
 * Content-Length is its body's length, and the connection must be closed
 * exactly once. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocking_conn.h"
#include "log.h"
#include "response_check.h"
#include "routes.h"

#define READ_SIZE_MASK 0x3f
#define QUIET_AT_END 0x40
#define KEEP_ALIVE_MODEL 0x80

typedef struct {
    const uint8_t *data;
    size_t len, at;
    size_t read_size; /* 0: everything at once */
    int quiet_at_end;
    int closed;
    unsigned fanouts;
} fuzz_conn_t;

static ssize_t fuzz_recv(void *ctx, void *buf, size_t len)
{
    fuzz_conn_t *c = ctx;
    if (c->closed)
        abort(); /* read after close */
    size_t left = c->len - c->at;
    if (left == 0)
        return c->quiet_at_end ? -ETIMEDOUT : 0;
    size_t n = c->read_size > 0 && c->read_size < left ? c->read_size : left;
    if (n > len)
        n = len;
    memcpy(buf, c->data + c->at, n);
    c->at += n;
    return (ssize_t)n;
}

static int fuzz_send(void *ctx, const void *buf, size_t len)
{
    fuzz_conn_t *c = ctx;
    if (c->closed)
        abort(); /* write after close */
    /* blocking_conn_run sends each response whole, in one call. */
    if (response_check(buf, len, 0) != 1)
        abort();
    return 0;
}

static int fuzz_peer_gone(void *ctx)
{
    (void)ctx;
    return 0;
}

static void fuzz_fanout(void *ctx, fanout_result_t *res)
{
    fuzz_conn_t *c = ctx;
    memset(res, 0, sizeof *res);
    res->calls = server_config->fanout;
    res->elapsed_ns = 1000000;
    switch (c->fanouts++ % 3) {
    case 0: res->ok = res->calls; break;
    case 1:
        res->ok = res->calls - 1;
        res->failed = 1;
        snprintf(res->first_error, sizeof res->first_error, "connection refused");
        break;
    default:
        res->ok = res->calls - 1;
        res->timed_out = 1;
        break;
    }
}

static int fuzz_may_keep(void *ctx)
{
    (void)ctx;
    return 1;
}

static void fuzz_close(void *ctx, int linger)
{
    fuzz_conn_t *c = ctx;
    (void)linger;
    if (c->closed++)
        abort(); /* closed twice */
}

static const blocking_io_t fuzz_io = {
    .recv = fuzz_recv,
    .send = fuzz_send,
    .peer_gone = fuzz_peer_gone,
    .fanout = fuzz_fanout,
    .may_keep = fuzz_may_keep,
    .close = fuzz_close,
};

static const variant_t fuzz_variant = {
    .name = "fuzz", .model = "libFuzzer", .keep_alive = 1, .settings = SETTINGS_HTTP};
static server_config_t fuzz_config = {
    .name = "fuzz", .host = "127.0.0.1", .slow_api_url = "http://127.0.0.1:8001/?delay=1",
    .slow_api_port = 8001, .slow_api_ports = 1, .fanout = 10, .upstream_timeout_ms = 5000,
    .client_timeout_ms = 60000, .cpu_iterations = 10, .threads = 1, .workers = 1};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Debug logging runs the log lines' formatting too (LOG_LEVEL wins). */
    setenv("LOG_LEVEL", "debug", 0);
    (void)log_init("fuzz_http_request");
    server_variant = &fuzz_variant;
    server_config = &fuzz_config;
    server_capacity = 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len == 0)
        return 0;
    fuzz_conn_t c = {
        .data = data + 1,
        .len = len - 1,
        .read_size = data[0] & READ_SIZE_MASK,
        .quiet_at_end = (data[0] & QUIET_AT_END) != 0,
    };
    blocking_conn_run(&fuzz_io, &c, (data[0] & KEEP_ALIVE_MODEL) != 0);
    if (c.closed != 1)
        abort(); /* never closed */
    return 0;
}
