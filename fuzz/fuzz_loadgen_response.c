/* fuzz_loadgen_response: loadgen's HTTP response parser, the one its HTTP
 * worker reads every response of a run with (loadgen/response.c, on
 * llhttp). The input is what a server sends on one kept-alive connection:
 * fed in reads of the size the first byte gives (0: all in one), the way
 * conn_readable does, a whole response then taking the next read as the
 * next request's answer when it keeps the connection alive, and the end
 * of the input as the server's close (a body that runs until it). A
 * whole response's status must fit the worker's table (below 1000); it
 * may be 0: llhttp 8.1 takes "HTTP/1.0 " without a code, then a body
 * until the close, as a response, which the worker counts as an HTTP
 * error of status 0. */
#include <stdint.h>
#include <stdlib.h>

#include "response.h"

/* The worker's http_status table has a slot for 0 to 999. */
static int status_fits(int status) { return status >= 0 && status <= 999; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 2)
        return 0;
    size_t chunk = data[0] > 0 ? data[0] : len - 1;
    lg_response_t r;
    lg_response_init(&r);
    for (size_t at = 1; at < len; at += chunk) {
        size_t n = len - at < chunk ? len - at : chunk;
        lg_response_status_t st = lg_response_feed(&r, (const char *)data + at, n);
        if (st == LG_RESPONSE_MORE)
            continue;
        if (st == LG_RESPONSE_BAD)
            return 0;
        if (!status_fits(llhttp_get_status_code(&r.parser)))
            abort();
        if (st == LG_RESPONSE_JUNK || !llhttp_should_keep_alive(&r.parser))
            return 0; /* the worker closes the connection */
        lg_response_reset(&r);
    }
    if (lg_response_eof(&r) && !status_fits(llhttp_get_status_code(&r.parser)))
        abort();
    return 0;
}
