/* Blocking-style I/O for coroutines over one libuv loop: the loop is
 * gevent's hub. A call first tries the system call; when it would block,
 * the coroutine parks (coro_yield) and a libuv watcher resumes it when the
 * socket is ready, its deadline passes, or its fan-out is done. So code
 * written as blocking (services/core/blocking_conn.c) runs as one of
 * thousands of coroutines on one thread.
 *
 * Every call that may park must run in a coroutine on the loop's thread;
 * everything that resumes one runs in a loop callback, on the thread's
 * own stack, never inside another coroutine. */
#ifndef LAB_CORO_IO_H
#define LAB_CORO_IO_H

#include <sys/types.h>

#include <uv.h>

#include "coro.h"
#include "fanout.h"

/* A socket a coroutine parks on. Lives where its coroutine's frame does. */
typedef struct coro_sock_s {
    int fd;
    uv_poll_t poll;   /* readiness of fd, watched only while parked */
    uv_timer_t timer; /* the park's deadline */
    coro_t *waiter;   /* the coroutine parked here, or NULL */
    int wait_events;  /* what it waits for (UV_READABLE, UV_WRITABLE) */
    int wake_status;  /* why it woke: 0 ready, or -errno */
    int open_handles;
} coro_sock_t;

/* Watch the non-blocking socket fd from loop. Returns 0, or a negative
 * errno (fd is closed then). */
int coro_sock_open(coro_sock_t *s, uv_loop_t *loop, int fd);

/* Park until fd is ready for events, timeout_ms passes (-ETIMEDOUT;
 * 0: no deadline) or coro_sock_cancel (-ECANCELED). Returns 0 when ready,
 * else a negative errno (-EPERM outside a coroutine). */
int coro_sock_wait(coro_sock_t *s, int events, long timeout_ms);

/* recv(2) and a whole send(2), parking while they would block; each park
 * at most timeout_ms. recv: bytes, 0 at EOF, or -errno; send: 0 or -errno. */
ssize_t coro_sock_recv(coro_sock_t *s, void *buf, size_t len, long timeout_ms);
int coro_sock_send(coro_sock_t *s, const void *buf, size_t len, long timeout_ms);

/* 1 when the coroutine is parked waiting to read (an idle keep-alive
 * connection, a request on its way), which a graceful stop may cancel. */
int coro_sock_reading(const coro_sock_t *s);

/* From a loop callback: wake the coroutine parked on s with -ECANCELED. */
void coro_sock_cancel(coro_sock_t *s);

/* Stop watching and close fd; parks until libuv has let go of the
 * handles, so s may go out of scope afterwards. */
void coro_sock_close(coro_sock_t *s);

/* The upstream fan-out as one blocking call: the FANOUT calls start as
 * child transfers on the loop (fanout_loop_start) and the coroutine parks
 * until the last has ended (the join). res is always filled in. */
void coro_fanout(fanout_loop_t *fl, fanout_result_t *res);

/* Resume co (from a loop callback) until it parks again or ends; free it
 * once its function has returned. */
void coro_io_wake(coro_t *co);

#endif
