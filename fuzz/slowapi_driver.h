/* What the slowapi harnesses share: one slowapi server (server_init, no
 * listener) and a connection on it whose client writes a buffer. */
#ifndef FUZZ_SLOWAPI_DRIVER_H
#define FUZZ_SLOWAPI_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/* Once, from LLVMFuzzerInitialize; program names the log lines. */
void slowapi_driver_init(const char *program);

/* One connection: its client writes prefix (may be NULL), then data in
 * writes of chunk bytes (0: in one), the loop turning after each, then
 * closes. The connection must then close and leave nothing behind: no
 * deadline queued, no h2c session with answers to write. What slowapi
 * wrote is returned in *out (*out_len bytes; valid until the next call). */
void slowapi_driver_run(const char *prefix, size_t prefix_len, const uint8_t *data, size_t len,
                        size_t chunk, const char **out, size_t *out_len);

#endif
