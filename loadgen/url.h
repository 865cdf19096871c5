/* The target: URL parsing, name resolution (once, IPv4) and the request
 * bytes, built once per run. */
#ifndef LOADGEN_URL_H
#define LOADGEN_URL_H

#include <stddef.h>

#include "loadgen.h"

#define LG_ERR_MAX 256

/* Parse http://host[:port]/path?query (port 80 by default, path "/" when
 * empty). Returns 0, or -EINVAL with a message in err. */
int lg_url_parse(const char *text, lg_url_t *url, char *err, size_t err_len);

/* getaddrinfo(host) for IPv4 into url->addr. Returns 0, or -1 with a
 * message in err. */
int lg_url_resolve(lg_url_t *url, char *err, size_t err_len);

/* The same, asked again every LG_HEALTH_BACKOFF_MS while the name does
 * not exist yet, for up to wait_s seconds (--wait: in a Swarm stack or a
 * Compose project a task may start before its peer's name is served).
 * wait_s <= 0: once. */
int lg_url_resolve_within(lg_url_t *url, double wait_s, char *err, size_t err_len);

/* "GET <target> HTTP/1.1\r\nHost: <host:port>\r\n\r\n", with
 * "Connection: close" when keepalive is 0. Returns the length or -ENOSPC. */
int lg_url_request(const lg_url_t *url, const char *target, int keepalive, char *buf,
                size_t cap);

/* The default workload name: the path without its slashes and query
 * ("/io?x=1" -> "io", "/a/b" -> "a-b", "/" -> "root"). */
void lg_url_workload(const lg_url_t *url, char *out, size_t cap);

#endif
