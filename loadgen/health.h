/* GET /healthz on the target's host:port, before the run: --wait polls it
 * until 200, and its JSON self-description goes into the report. The same
 * GET reads slowapi's /stats (verify.c). */
#ifndef LOADGEN_HEALTH_H
#define LOADGEN_HEALTH_H

#include <jansson.h>
#include <stddef.h>

#include "loadgen.h"

/* One GET target (Connection: close) on url's host:port within
 * timeout_ms: loadgen's one small HTTP client outside the load (/healthz
 * here, slowapi's /stats for --upstream). On a whole response returns 0
 * with its status and body (NUL-terminated, cut at cap - 1). Otherwise
 * -errno (-ECONNREFUSED, -ETIMEDOUT, -EPROTO, ...) with a message in err. */
int lg_health_http_get(const lg_url_t *url, const char *target, int timeout_ms, int *status,
                    char *body, size_t cap, char *err, size_t err_len);

/* lg_health_http_get of /healthz. */
int lg_health_get(const lg_url_t *url, int timeout_ms, int *status, char *body, size_t cap,
               char *err, size_t err_len);

/* Poll GET /healthz until it answers 200, for at most wait_s seconds, with
 * a LG_HEALTH_BACKOFF_MS pause between attempts. Returns 0 (body holds the
 * answer), -ETIMEDOUT (err holds the last attempt's failure), or at once
 * -EPROTONOSUPPORT when the answer is not HTTP/1.x at all (a gRPC server:
 * err says to use --grpc). lg_health_get returns that too. */
int lg_health_wait(const lg_url_t *url, double wait_s, char *body, size_t cap, char *err,
                size_t err_len);

/* The body as the server's description for the report: a JSON object with
 * at least one of "variant", "capacity", "model"; NULL for anything else
 * (slowapi's {"status":"ok",...}, plain text). */
json_t *lg_health_server_info(const char *body);

/* --upstream: slowapi's GET /healthz (on the upstream URL's host:port),
 * with --wait polled until it answers, as the server's is: Compose starts
 * the three at once, ordered by no health check (docker-compose.yml). The
 * CPU model it names ("cpu_model") goes into cpu_model, for the report's
 * environment: on what the upstream ran when it is another node; "" when
 * there is no answer or the slowapi does not say. Returns 0, or -1 when
 * --wait gave up (err says why). */
int lg_health_upstream(const lg_config_t *cfg, char *cpu_model, size_t cap, char *err,
                       size_t err_len);

/* The server's self-description for the report, asked before the load:
 * with --wait, first poll its health until it answers (HTTP /healthz, or
 * with --grpc grpc.health.v1), then GET /healthz or call
 * bench.Bench/Describe. Returns 0 with *server (NULL when there is no
 * description; err then says why, for a note), or -1 when --wait gave up
 * or the server does not speak the protocol (err says which). */
int lg_health_describe(const lg_config_t *cfg, json_t **server, char *err, size_t err_len);

#endif
