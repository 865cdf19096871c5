/* fuzz_slowapi_h1: slowapi's HTTP/1.1 input. The input is what one client
 * sends on one connection, written into a real slowapi connection (conn.c
 * on server.c's loop, through fuzz/slowapi_driver.c): the first bytes'
 * sniffing for the h2 preface, lib/http_request.c's parser with conn.c's
 * header callbacks (the h2c Upgrade), pipelining and the bytes kept while
 * a request waits, route.c's answers (delays, /stats, injected faults by
 * query), 400 and 431 with the lingering close, and an upgrade to h2c
 * with what follows it. The first byte sets the size of each write (0:
 * all in one). What slowapi writes must be whole HTTP/1.1 responses with
 * a right Content-Length (up to a 101; not checked when the input starts
 * with the h2 preface), and the connection must close leaving no deadline
 * or session behind. */
#include <stdint.h>

#include "response_check.h"
#include "slowapi.h"
#include "slowapi_driver.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    slowapi_driver_init("fuzz_slowapi_h1");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 2)
        return 0;
    const char *out;
    size_t out_len;
    slowapi_driver_run(NULL, 0, data + 1, len - 1, data[0], &out, &out_len);
    if (h2_preface_match((const char *)data + 1, len - 1) != H2_PREFACE_YES)
        (void)response_check(out, out_len, 1);
    return 0;
}
