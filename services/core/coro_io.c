/* A parked coroutine is resumed straight from the libuv callback that
 * saw its I/O ready (as gevent's watchers switch to the waiting greenlet):
 * no run queue, no extra turn of the loop. Watchers are started when a
 * coroutine parks and stopped when it wakes, so a socket nobody waits on
 * causes no wake-ups. */
#include "coro_io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

void coro_io_wake(coro_t *co)
{
    int rc = coro_resume(co);
    if (rc != 0)
        log_error("resuming coroutine '%s': %s", coro_name(co), strerror(-rc));
    else if (coro_done(co))
        coro_free(co);
}

static void wake(coro_sock_t *s, int status)
{
    coro_t *co = s->waiter;
    if (co == NULL)
        return;
    s->waiter = NULL;
    s->wake_status = status;
    coro_io_wake(co); /* s may be gone when this returns */
}

static void poll_cb(uv_poll_t *poll, int status, int events)
{
    (void)events;
    wake(poll->data, status < 0 ? status : 0); /* libuv's codes are -errno */
}

static void timer_cb(uv_timer_t *timer)
{
    wake(timer->data, -ETIMEDOUT);
}

static void closed_cb(uv_handle_t *handle)
{
    coro_sock_t *s = handle->data;
    if (--s->open_handles == 0)
        wake(s, 0);
}

int coro_sock_open(coro_sock_t *s, uv_loop_t *loop, int fd)
{
    *s = (coro_sock_t){.fd = fd};
    int rc = uv_poll_init(loop, &s->poll, fd);
    if (rc != 0) {
        (void)close(fd);
        return rc;
    }
    (void)uv_timer_init(loop, &s->timer); /* cannot fail */
    s->poll.data = s->timer.data = s;
    s->open_handles = 2;
    return 0;
}

int coro_sock_wait(coro_sock_t *s, int events, long timeout_ms)
{
    coro_t *self = coro_current();
    if (self == NULL)
        return -EPERM;
    int rc = uv_poll_start(&s->poll, events, poll_cb);
    if (rc == 0 && timeout_ms > 0)
        rc = uv_timer_start(&s->timer, timer_cb, (uint64_t)timeout_ms, 0);
    if (rc == 0) {
        s->waiter = self;
        s->wait_events = events;
        while (s->waiter != NULL)
            (void)coro_yield(); /* only wake() clears waiter */
        rc = s->wake_status;
    }
    (void)uv_poll_stop(&s->poll);
    (void)uv_timer_stop(&s->timer);
    return rc;
}

ssize_t coro_sock_recv(coro_sock_t *s, void *buf, size_t len, long timeout_ms)
{
    for (;;) {
        ssize_t n = recv(s->fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -errno;
        if (errno != EINTR) {
            int rc = coro_sock_wait(s, UV_READABLE, timeout_ms);
            if (rc < 0)
                return rc;
        }
    }
}

int coro_sock_send(coro_sock_t *s, const void *buf, size_t len, long timeout_ms)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
        if (n >= 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -errno;
        if (errno != EINTR) {
            int rc = coro_sock_wait(s, UV_WRITABLE, timeout_ms);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int coro_sock_reading(const coro_sock_t *s)
{
    return s->waiter != NULL && (s->wait_events & UV_READABLE);
}

void coro_sock_cancel(coro_sock_t *s)
{
    wake(s, -ECANCELED);
}

void coro_sock_close(coro_sock_t *s)
{
    /* uv_close stops the watcher at once: the fd can go now. */
    uv_close((uv_handle_t *)&s->poll, closed_cb);
    uv_close((uv_handle_t *)&s->timer, closed_cb);
    (void)close(s->fd);
    s->waiter = coro_current();
    s->wait_events = 0; /* not cancellable */
    while (s->open_handles > 0)
        (void)coro_yield();
}

/* ---- the fan-out ---- */

typedef struct fanout_wait_s {
    coro_t *waiter;
    fanout_result_t *res;
    int done;
} fanout_wait_t;

static void fanout_joined_cb(void *arg, const fanout_result_t *res)
{
    fanout_wait_t *w = arg;
    *w->res = *res;
    w->done = 1;
    coro_io_wake(w->waiter);
}

void coro_fanout(fanout_loop_t *fl, fanout_result_t *res)
{
    fanout_wait_t w = {.waiter = coro_current(), .res = res};
    if (w.waiter == NULL || fanout_loop_start(fl, fanout_joined_cb, &w) != 0) {
        int calls = server_config->fanout;
        *res = (fanout_result_t){.calls = calls, .failed = calls};
        snprintf(res->first_error, sizeof res->first_error, "cannot start the fan-out");
        return;
    }
    while (!w.done)
        (void)coro_yield(); /* only fanout_joined_cb resumes it here */
}
