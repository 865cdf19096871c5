/* The lab's own upstream client, under the loop driver (fanout_uv.c): many
 * GETs of SLOW_API_URL at once, on one libuv loop, without libcurl.
 *
 * Why not curl here: at c=1000 the event loop spent about half of its
 * user-space CPU in libcurl and in the mallocs curl makes for each
 * transfer (the URL parsed again, a connection struct made and dropped, the
 * headers copied; docs/PERFORMANCE.md), for a call that is always the same
 * GET. The blocking models keep curl (fanout_blocking.c), as the study's
 * Python keeps requests.
 *
 * Two transports behind one small table (wrk's struct sock, for a bigger
 * part):
 *   upstream_h1.c  HTTP/1.1, one connection per call in flight, kept alive
 *                  and reused: what the study measured.
 *   upstream_h2.c  h2c with prior knowledge (nghttp2): the calls of every
 *                  fan-out of the loop are streams of a few connections,
 *                  up to the peer's concurrent-stream limit each.
 *
 * This file's part: the URL, the address (resolved on the loop's thread
 * pool, again after a connection fails), the sockets (one epoll set of
 * ours, edge-triggered, that the loop watches with one uv_poll), the
 * flush before the loop waits (one uv_prepare: what every callback of a
 * turn asked to send goes out together), and the deferred free of closed
 * sockets. */
#ifndef LAB_UPSTREAM_H
#define LAB_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "server.h"

typedef struct upstream_s upstream_t;
typedef struct upstream_call_s upstream_call_t;
typedef struct upstream_sock_s upstream_sock_t;

/* ---- calls: what the driver sees ---- */

typedef void (*upstream_done_cb)(upstream_call_t *call);

/* One GET. The caller owns the struct and keeps it until done runs, or
 * until it cancels the call. */
struct upstream_call_s {
    upstream_done_cb done; /* set by the caller; runs once, from the loop */
    void *data;            /* the caller's */
    int status;            /* set before done: HTTP status, 0 if no answer */
    const char *error;     /* status 0: a static text saying why */
    int error_errno;       /* status 0: the errno behind it, or 0 */
    /* the transport's: */
    void *conn;
    upstream_call_t *next;
    int32_t stream_id;
    /* upstream.c's: the queue the call waits on (address, ending), if any */
    void *queue;
    upstream_call_t *queue_prev, *queue_next;
};

/* A client for cfg's SLOW_API_URL on loop (HTTP/1.1, or h2c when
 * cfg->upstream_http2), at the URL's port + port_offset (SLOW_API_PORTS:
 * the driver has a client per port). Returns NULL, with a log line, when
 * it cannot. */
upstream_t *upstream_new(uv_loop_t *loop, const server_config_t *cfg, int port_offset);
/* Begin a call; its done runs later, never from inside this function. */
void upstream_start(upstream_t *up, upstream_call_t *call);
/* Give up on a call that has not ended (its fan-out timed out): done will
 * not run, and its connection is not reused for another call's answer. */
void upstream_cancel(upstream_t *up, upstream_call_t *call);
/* Close every connection and the client's handles; no call may be in
 * flight. on_closed(arg) runs once everything is closed and freed. */
void upstream_close(upstream_t *up, void (*on_closed)(void *arg), void *arg);

/* ---- for the transports ---- */

/* An event on a socket of ours (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP,
 * EPOLLERR). Edge-triggered: read until a short read or EAGAIN. */
typedef void (*upstream_ready_fn)(upstream_sock_t *sock, uint32_t events);

/* A connection's socket; the transport embeds it first in its own struct. */
struct upstream_sock_s {
    int fd;                 /* -1 once closed */
    upstream_ready_fn ready;
    upstream_t *up;
    /* upstream.c's: */
    void (*free_fn)(upstream_sock_t *sock);
    upstream_sock_t *next_dead;
};

typedef struct upstream_transport_s {
    const char *name;
    int (*init)(upstream_t *up);                         /* 0 or -errno */
    void (*start)(upstream_t *up, upstream_call_t *call); /* address known */
    void (*cancel)(upstream_t *up, upstream_call_t *call);
    void (*flush)(upstream_t *up); /* before the loop waits, once asked */
    void (*close)(upstream_t *up); /* close every connection, free its state */
} upstream_transport_t;

extern const upstream_transport_t upstream_h1;
extern const upstream_transport_t upstream_h2;

/* The transport's own state (set by init, freed by close). */
void *upstream_transport_state(upstream_t *up);
void upstream_set_transport_state(upstream_t *up, void *state);
const server_config_t *upstream_config(upstream_t *up);

/* The request target and authority, parsed once from SLOW_API_URL:
 * path with query ("/?delay=1") and "host[:port]" as the URL had it, with
 * this client's port when that is not the URL's (SLOW_API_PORTS). */
const char *upstream_path(upstream_t *up);
const char *upstream_authority(upstream_t *up);

/* Open a non-blocking socket, connect it to the upstream's address (it
 * usually completes later: wait for EPOLLOUT, then upstream_sock_error)
 * and watch it for every event, edge-triggered. sock->ready must be set.
 * Returns 0 or -errno. */
int upstream_sock_connect(upstream_t *up, upstream_sock_t *sock);
/* The connect's outcome once the socket is writable: 0 or -errno. */
int upstream_sock_error(upstream_sock_t *sock);
/* A connection failed (refused, reset before an answer): the address is
 * resolved again before the next connection. */
void upstream_address_suspect(upstream_t *up);
/* Close the socket now and free the struct holding it (free_fn(sock))
 * once no event for it can be pending: at once outside the handling of a
 * batch of events, after the batch inside it. */
void upstream_sock_close(upstream_sock_t *sock, void (*free_fn)(upstream_sock_t *sock));
/* Ask for transport->flush before the loop next waits for events. */
void upstream_want_flush(upstream_t *up);
/* End a call: set its outcome and run its done callback now (from an
 * event, a flush or a timer, never from inside start). */
void upstream_call_end(upstream_call_t *call, int status, const char *error, int error_errno);
/* The same before the loop next waits: for a call that fails inside start. */
void upstream_call_end_soon(upstream_t *up, upstream_call_t *call, const char *error,
                            int error_errno);

#endif
