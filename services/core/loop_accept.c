/* The listening socket is watched with a uv_poll, not uv_listen: libuv's
 * own accept loop takes every waiting connection in one turn, has no
 * limit, and on EMFILE closes a reserved descriptor to accept and drop
 * the connection, or else keeps waking. Here the connection stays queued
 * and the loop sleeps until a try may succeed. */
#include "loop_accept.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

static void readable_cb(uv_poll_t *poll, int status, int events);

static int has_room(const loop_accept_t *a)
{
    return a->limit == 0 || a->live < a->limit;
}

static void unwatch(loop_accept_t *a)
{
    (void)uv_poll_stop(&a->poll);
    a->watching = 0;
}

static void retry_cb(uv_timer_t *timer);

/* Accepting failed for want of something that time or a connection's end
 * may give back (err: a negative errno): stop watching, or the socket,
 * still readable, would wake the loop at once and forever; try again
 * later. Logged when the episode begins, not at every try. */
static void back_off(loop_accept_t *a, int err)
{
    unwatch(a);
    if (a->failing_since_ns == 0) {
        a->failing_since_ns = clock_now_ns();
        a->retries = 0;
        log_warn("accept: %s: not accepting; trying again every %d ms and when a connection "
                 "ends", strerror(-err), LOOP_ACCEPT_RETRY_MS);
    } else {
        a->retries++;
    }
    (void)uv_timer_start(&a->retry, retry_cb, LOOP_ACCEPT_RETRY_MS, 0); /* cannot fail */
}

/* An episode of failures ends when accepting has caught up: the queue is
 * empty, or what waits there waits for the limit, not for resources. Not
 * at the first success: under a lasting shortage every connection that
 * ends lets one more in before accept fails again, and that is still the
 * same episode, not one per connection. */
static void caught_up(loop_accept_t *a)
{
    if (a->failing_since_ns == 0)
        return;
    log_info("accept: caught up, %llu ms after it began to fail (%lu more tries failed)",
             (unsigned long long)((clock_now_ns() - a->failing_since_ns) / NS_PER_MS), a->retries);
    a->failing_since_ns = 0;
    (void)uv_timer_stop(&a->retry);
}

/* Watch the socket again if accepting had stopped and may go on now. */
static void resume(loop_accept_t *a)
{
    if (a->fd < 0 || a->watching || !has_room(a))
        return;
    int rc = uv_poll_start(&a->poll, UV_READABLE, readable_cb);
    if (rc != 0) {
        back_off(a, rc);
        return;
    }
    a->watching = 1;
}

static void retry_cb(uv_timer_t *timer)
{
    resume(timer->data);
}

/* Errors of the one connection taken (Linux passes a pending network error
 * on to accept, and the man page says to treat these like EAGAIN): the
 * next in the queue may be fine. */
static int connection_error(int err)
{
    return err == EINTR || err == ECONNABORTED || err == EPROTO || err == EPERM ||
           err == ENETDOWN || err == ENETUNREACH || err == ENOPROTOOPT || err == EHOSTDOWN ||
           err == EHOSTUNREACH || err == ENONET || err == EOPNOTSUPP;
}

/* Up to LOOP_ACCEPT_BATCH connections; 0 when the queue is empty or the
 * limit is reached, a negative errno when accepting must stop. */
static int accept_batch(loop_accept_t *a)
{
    for (int i = 0; i < LOOP_ACCEPT_BATCH && has_room(a); i++) {
        int fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            caught_up(a); /* the queue is empty (or another worker took it) */
            return 0;
        }
        if (fd < 0 && !connection_error(errno))
            return -errno;
        if (fd < 0)
            continue;
        a->live++;
        a->conn_cb(a, fd);
    }
    return 0;
}

static void readable_cb(uv_poll_t *poll, int status, int events)
{
    (void)events;
    loop_accept_t *a = poll->data;
    int rc = status < 0 ? status : accept_batch(a);
    if (rc < 0) {
        back_off(a, rc);
    } else if (!has_room(a) && a->watching) {
        unwatch(a); /* the rest wait in the listen queue */
        caught_up(a);
    }
}

int loop_accept_open(loop_accept_t *a, uv_loop_t *loop, int listen_fd, int limit,
                     loop_accept_conn_cb conn_cb)
{
    *a = (loop_accept_t){.conn_cb = conn_cb, .fd = listen_fd, .limit = limit};
    int rc = uv_poll_init(loop, &a->poll, listen_fd);
    if (rc != 0)
        return rc;
    (void)uv_timer_init(loop, &a->retry); /* cannot fail */
    a->poll.data = a->retry.data = a;
    resume(a); /* should watching fail, it is tried again like an accept */
    return 0;
}

void loop_accept_ended(loop_accept_t *a)
{
    a->live--;
    resume(a);
}

void loop_accept_close(loop_accept_t *a)
{
    if (a->fd < 0)
        return;
    /* uv_close stops the watcher at once: the socket can go now. A master
     * keeps its own copy of a shared one. */
    uv_close((uv_handle_t *)&a->poll, NULL);
    uv_close((uv_handle_t *)&a->retry, NULL);
    (void)close(a->fd);
    a->fd = -1;
    a->watching = 0;
}
