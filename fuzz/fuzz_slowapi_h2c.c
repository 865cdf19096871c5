/* fuzz_slowapi_h2c: slowapi's h2c input with prior knowledge. The client
 * preface is written first, then the input as HTTP/2 frames into a real
 * slowapi connection (fuzz/slowapi_driver.c): conn.c hands it to h2.c,
 * whose nghttp2 session callbacks map request headers onto route.c's
 * answers (:method, :path, the 431 limit on the header block), answer at
 * END_STREAM or at a deadline (0 s faults fall due, longer ones are
 * cancelled with the connection), and end the connection after GOAWAY.
 * The first byte sets the size of each write (0: all in one). The
 * connection must close leaving no deadline or session with answers
 * behind; the sanitizers watch the rest (the streams' lists, the output
 * buffer, the delayed answers). The h2c Upgrade from HTTP/1.1 is
 * fuzz_slowapi_h1's. */
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "slowapi_driver.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    slowapi_driver_init("fuzz_slowapi_h2c");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 2)
        return 0;
    const char *out;
    size_t out_len;
    slowapi_driver_run(NGHTTP2_CLIENT_MAGIC, NGHTTP2_CLIENT_MAGIC_LEN, data + 1, len - 1,
                       data[0], &out, &out_len);
    return 0;
}
