/* One client connection served in blocking style: read a request, answer
 * it, repeat while both sides keep the connection alive.
 *
 * The handler does its I/O through a small table (blocking_io_t). The
 * blocking models (single thread, thread per request, thread pools,
 * prefork) hand it plain system calls on a blocking socket
 * (blocking_conn_serve); the coroutine model hands it calls that park the
 * coroutine until the event loop has the I/O ready (coro_io.h). The
 * handler cannot tell them apart: gevent's monkey patching, in spirit. */
#ifndef LAB_BLOCKING_CONN_H
#define LAB_BLOCKING_CONN_H

#include <sys/types.h>

#include "fanout.h"

/* After an error answer, how long to read what the client still sends so
 * that closing does not reset the connection before it reads the answer. */
#define CONN_LINGER_MS 200

typedef struct blocking_io_s {
    /* Read up to len bytes: > 0, 0 at EOF, -ETIMEDOUT when nothing came
     * within CLIENT_TIMEOUT, another -errno on failure. */
    ssize_t (*recv)(void *ctx, void *buf, size_t len);
    /* Write all of buf: 0 or -errno. */
    int (*send)(void *ctx, const void *buf, size_t len);
    /* 1 when the client has hung up already (it left while its request
     * waited), 0 otherwise; does not wait. */
    int (*peer_gone)(void *ctx);
    /* The upstream fan-out; returns when every call has ended, res filled. */
    void (*fanout)(void *ctx, fanout_result_t *res);
    /* 1 when the connection may stay open for another request; 0 when the
     * server is stopping or needs the place for a waiting connection. */
    int (*may_keep)(void *ctx);
    /* Close the connection. linger: after an error answer, send FIN first
     * and read what still comes for CONN_LINGER_MS. */
    void (*close)(void *ctx, int linger);
} blocking_io_t;

/* Serve the connection behind io and ctx until it ends, then close it.
 * keep_alive: the model keeps connections open between requests (else
 * one request per connection, as HTTP/1.0 servers do). The handler's
 * buffers live on the caller's stack (about 20 KiB). */
void blocking_conn_run(const blocking_io_t *io, void *ctx, int keep_alive);

/* blocking_conn_run on the blocking socket fd with plain system calls
 * (CLIENT_TIMEOUT as SO_RCVTIMEO and SO_SNDTIMEO); fc is the calling
 * thread's fan-out client. */
void blocking_conn_serve(int fd, fanout_client_t *fc, int keep_alive);

#endif
