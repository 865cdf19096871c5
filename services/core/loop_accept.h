/* The accept path of the loop models (event_loop.c, coroutine.c), written
 * once so that a comparison of the models is not also a comparison of
 * accept loops. It watches the listening socket on a libuv loop and, when
 * it is readable, accepts up to LOOP_ACCEPT_BATCH connections with
 * accept4 (non-blocking, close-on-exec), handing each fd to a callback.
 *
 * - A limit on live connections: at the limit it stops watching, and the
 *   rest wait in the listen queue (served, not refused) until one ends.
 * - Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the
 *   connection stays in the queue, and watching it would wake the loop
 *   again at once, forever. So it stops watching and tries again after
 *   LOOP_ACCEPT_RETRY_MS, or sooner when a connection ends (which frees a
 *   descriptor). One warning per episode, and one line when it ends. */
#ifndef LAB_LOOP_ACCEPT_H
#define LAB_LOOP_ACCEPT_H

#include <stdint.h>

#include <uv.h>

/* Connections accepted per turn of the loop, so that a burst of them does
 * not hold up the timers and wake-ups that are due. */
#define LOOP_ACCEPT_BATCH 32
/* After accept failed for want of resources, the next try. */
#define LOOP_ACCEPT_RETRY_MS 100

typedef struct loop_accept_s loop_accept_t;

/* fd: an accepted connection, non-blocking and close-on-exec, now the
 * callee's. It counts as live until loop_accept_ended (which the callback
 * may call before it returns). */
typedef void (*loop_accept_conn_cb)(loop_accept_t *a, int fd);

struct loop_accept_s {
    uv_poll_t poll;         /* the listening socket: watched while accepting */
    uv_timer_t retry;       /* the next try after a failure */
    loop_accept_conn_cb conn_cb;
    int fd;                 /* the listening socket; -1 once closed */
    int limit;              /* live connections at most; 0: no limit */
    int live;               /* handed over and not yet ended */
    int watching;
    uint64_t failing_since_ns; /* an episode of failures began; 0: none */
    unsigned long retries;     /* tries that failed again in this episode */
};

/* Accept from listen_fd (listening, non-blocking) on loop, at most limit
 * connections live at once (0: no limit), handing each to conn_cb.
 * Returns 0, or a negative errno (uv_poll_init's): then conn_cb never
 * runs and a needs no loop_accept_close. */
int loop_accept_open(loop_accept_t *a, uv_loop_t *loop, int listen_fd, int limit,
                     loop_accept_conn_cb conn_cb);

/* A connection handed over has ended: its place is free (and perhaps the
 * descriptor that was missing), so accept again if it had stopped. */
void loop_accept_ended(loop_accept_t *a);

/* Stop accepting for good: close the handles (asynchronously: run the
 * loop on) and this process's copy of the listening socket. Connections
 * still live may end afterwards; calling it again does nothing. */
void loop_accept_close(loop_accept_t *a);

#endif
