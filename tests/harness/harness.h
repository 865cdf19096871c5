/* Helpers for integration tests: start real programs and wait on their
 * readiness pipe (never a sleep), talk raw HTTP to them, stop them. */
#ifndef LAB_TEST_HARNESS_H
#define LAB_TEST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int port;
    char name[64];
} proc_t;

/* $BUILD/bin/<program>; BUILD from the environment, default "build". */
const char *bin_path(const char *program);

/* Start argv (argv[0] a path) with extra "NAME=value" entries added to the
 * environment (env may be NULL), appending "--ready-fd N"; wait up to
 * timeout_ms for the port it writes. Returns 0 or -errno (-ETIMEDOUT when no
 * port came; the child is killed then). */
int proc_start(proc_t *p, const char *const argv[], const char *const env[], int timeout_ms);

/* SIGTERM, then wait up to timeout_ms. Returns the exit status (0-255),
 * 128+signal when killed by a signal, or -ETIMEDOUT after SIGKILL. */
int proc_stop(proc_t *p, int timeout_ms);

/* Wait up to timeout_ms for the process to exit by itself (after a signal
 * the test sent). Returns the exit status like proc_stop, or -ETIMEDOUT
 * (then it is killed). */
int proc_wait(proc_t *p, int timeout_ms);

/* SIGKILL and reap. */
void proc_kill(proc_t *p);

/* Connect to 127.0.0.1:port; returns a blocking socket or -errno. */
int tcp_connect(int port);

/* Read one HTTP response from fd into resp (NUL-terminated): until the
 * headers and Content-Length body are in, or EOF. Returns the status code,
 * or -errno (-ETIMEDOUT, -ECONNRESET, -EPROTO for no status line). */
int http_read_response(int fd, char *resp, size_t cap, int timeout_ms);

/* Send raw bytes on a new connection and read one response. */
int http_raw(int port, const char *raw, size_t len, char *resp, size_t cap, int timeout_ms);

/* Send raw on each of n new connections, fds[0..n-1], and read nothing:
 * n requests in flight at once. Returns 0, or -errno (every connection
 * made is closed then). */
int http_send_many(int port, const char *raw, size_t len, int *fds, int n);

/* GET path on a new connection ("Connection: close"); body (may be NULL)
 * receives the response body. Returns the status or -errno. */
int http_get(int port, const char *path, char *body, size_t cap, int timeout_ms);

/* 1 when the peer closes fd (EOF or reset) within timeout_ms, else 0. */
int peer_closed(int fd, int timeout_ms);

/* Milliseconds on the monotonic clock. */
double now_ms(void);

/* Run only the tests whose names match TEST_FILTER (cmocka's wildcards,
 * e.g. TEST_FILTER=test_coroutine_limit), when it is set. */
void harness_filter_from_env(void);

#endif
