/* loadgen --grpc: the gRPC target and the calls outside the load. The URL
 * is given as for HTTP, http://host:port/path; the path names the call:
 * /io and /cpu are /bench.Bench/Io and /bench.Bench/Cpu (proto/bench.proto),
 * any other path is sent as the method itself ("/grpc.health.v1.Health/Check").
 * Every request is the empty message. */
#ifndef LOADGEN_GRPC_CLIENT_H
#define LOADGEN_GRPC_CLIENT_H

#include <stddef.h>

#include <grpc/grpc.h>

#include "loadgen.h"

#define LG_GRPC_METHOD_MAX 512

/* The method for the URL's path. Returns 0, or -EINVAL with a message. */
int lg_grpc_client_method(const lg_url_t *url, char *method, size_t cap, char *err, size_t err_len);

/* A channel to the resolved address (no name resolution by gRPC). */
grpc_channel *lg_grpc_client_channel(const lg_url_t *url, int own_connection);

/* grpc.health.v1.Health/Check until it answers SERVING, for at most
 * wait_s seconds, LG_HEALTH_BACKOFF_MS apart. Returns 0 or -ETIMEDOUT with
 * the last attempt's failure in err. */
int lg_grpc_client_wait(const lg_url_t *url, double wait_s, char *err, size_t err_len);

/* /bench.Bench/Describe: the server's self-description, /healthz's JSON
 * text, into body. Returns 0, or -1 with a message in err. */
int lg_grpc_client_describe(const lg_url_t *url, int timeout_ms, char *body, size_t cap, char *err,
                         size_t err_len);

#endif
