/* The timerfd and its heap (delay_timer.h). */
#include "delay_timer.h"

#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

/* One run answers what was due when it started and what falls due while it
 * works, but gives the loop back after this long, so that reads (new
 * requests, hence their parse times) are not held back by a long burst of
 * answers. What is left is due already: the timerfd, set in the past,
 * wakes the very next iteration. */
#define DELAY_RUN_MAX_NS 1000000ULL

static void delay_timer_on_poll(uv_poll_t *poll, int status, int events);

int delay_timer_init(uv_loop_t *loop, delay_timer_t *t, delay_due_cb due_cb,
                     delay_done_cb done_cb)
{
    memset(t, 0, sizeof *t);
    t->fd = -1; /* before anything can fail: delay_timer_free checks it */
    deadline_heap_init(&t->heap);
    t->due_cb = due_cb;
    t->done_cb = done_cb;
    t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (t->fd < 0)
        return -errno;
    int rc = uv_poll_init(loop, &t->poll, t->fd);
    if (rc < 0)
        return rc;
    t->poll.data = t;
    t->poll_open = 1;
    return uv_poll_start(&t->poll, UV_READABLE, delay_timer_on_poll);
}

/* Set the timerfd to the earliest deadline (or disarm it). force: even when
 * it already holds that value, because it has just expired and its
 * readiness was read away. */
static int delay_timer_arm(delay_timer_t *t, int force)
{
    const deadline_t *min = deadline_heap_min(&t->heap);
    uint64_t want_ns = min != NULL ? min->due_ns : 0;
    if (want_ns == t->armed_ns && !force)
        return 0;
    /* it_value 0 disarms; a deadline in the past expires at once. The
     * monotonic clock is never 0 on a running system, so 0 is free to mean
     * "none". */
    struct itimerspec spec = {
        .it_value = {.tv_sec = (time_t)(want_ns / NS_PER_S),
                     .tv_nsec = (long)(want_ns % NS_PER_S)},
    };
    if (timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &spec, NULL) < 0) {
        int err = errno;
        t->armed_ns = 0; /* unknown: the next call sets it again */
        log_error("timerfd_settime: %s", strerror(err));
        return -err;
    }
    t->armed_ns = want_ns;
    return 0;
}

int delay_timer_add(delay_timer_t *t, deadline_t *d)
{
    int rc = deadline_heap_push(&t->heap, d);
    if (rc < 0)
        return rc;
    /* Deadlines mostly come in order (same delay, later parse), so this is
     * rarely a new earliest one and rarely a system call. */
    if (t->running || d->index != 0)
        return 0;
    rc = delay_timer_arm(t, 0);
    if (rc < 0)
        deadline_heap_remove(&t->heap, d);
    return rc;
}

void delay_timer_cancel(delay_timer_t *t, deadline_t *d)
{
    /* The timerfd may stay set for a deadline that is gone: it then fires
     * once for nothing, which is cheaper than a system call per cancel. */
    deadline_heap_remove(&t->heap, d);
}

/* Answer what is due; returns whether anything was. */
static int delay_timer_answer_due(delay_timer_t *t)
{
    deadline_t *d = deadline_heap_min(&t->heap);
    if (d == NULL)
        return 0;
    uint64_t start_ns = clock_now_ns();
    uint64_t now_ns = start_ns;
    if (d->due_ns > now_ns)
        return 0;
    t->running = 1;
    while (d != NULL) {
        if (d->due_ns > now_ns) {
            /* Not due at the last reading; the answers took time. */
            now_ns = clock_now_ns();
            if (d->due_ns > now_ns || now_ns - start_ns >= DELAY_RUN_MAX_NS)
                break;
        }
        deadline_heap_remove(&t->heap, d);
        t->due_cb(t, d);
        d = deadline_heap_min(&t->heap);
    }
    t->running = 0;
    if (t->done_cb != NULL)
        t->done_cb(t);
    return 1;
}

void delay_timer_run(delay_timer_t *t)
{
    if (delay_timer_answer_due(t))
        (void)delay_timer_arm(t, 0); /* failures are logged there */
}

static void delay_timer_on_poll(uv_poll_t *poll, int status, int events)
{
    delay_timer_t *t = poll->data;
    (void)events;
    if (status < 0)
        log_error("timerfd poll: %s", uv_strerror(status));
    /* Read the expiry count away, or the level-triggered poll would report
     * the timerfd again and again. EAGAIN: a re-arm since the expiry has
     * already cleared it. */
    uint64_t expirations;
    if (read(t->fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        log_error("read(timerfd): %s", strerror(errno));
    (void)delay_timer_answer_due(t);
    (void)delay_timer_arm(t, 1);
}

void delay_timer_close(delay_timer_t *t)
{
    if (t->poll_open) {
        uv_close((uv_handle_t *)&t->poll, NULL);
        t->poll_open = 0;
    }
}

int delay_timer_free(delay_timer_t *t)
{
    int rc = 0;
    if (t->fd >= 0 && close(t->fd) < 0)
        rc = -errno;
    t->fd = -1;
    deadline_heap_free(&t->heap);
    return rc;
}
