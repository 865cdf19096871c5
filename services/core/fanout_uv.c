/* Non-blocking fan-out: curl's multi socket interface driven by a libuv
 * loop. curl tells us which sockets to watch (socket_cb) and when to call
 * it back (timer_cb); libuv tells curl when they are ready. One multi handle
 * per loop, so upstream connections are reused across requests. */
#include "fanout.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/* How many idle upstream connections the cache keeps. curl's default, four
 * per easy handle *currently added*, shrinks to nothing between rounds
 * (every handle is removed when its call ends), so each round reconnected
 * most of its c x FANOUT connections: +25 ms per round at c=100, +150 ms
 * and more when they were all new. Keep enough for the lab's loads. */
#define UPSTREAM_MAX_IDLE_CONNECTIONS 10000L

typedef struct socket_watch_s {
    uv_poll_t poll;
    curl_socket_t fd;
    fanout_loop_t *fl;
    struct socket_watch_s *prev, *next;
} socket_watch_t;

typedef struct fanout_job_s {
    fanout_done_cb done;
    void *arg;
    int pending;
    uint64_t start_ns;
    fanout_result_t res;
} fanout_job_t;

struct fanout_loop_s {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    const server_config_t *cfg;
    socket_watch_t *watches; /* live socket watches, closed with the driver */
    CURL **idle;             /* easy handles ready for reuse */
    size_t idle_count, idle_cap;
};

static void check_finished(fanout_loop_t *fl);

static void watch_closed_cb(uv_handle_t *handle) { free(handle->data); }

static void watch_close(socket_watch_t *w)
{
    fanout_loop_t *fl = w->fl;
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        fl->watches = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    w->poll.data = w;
    uv_close((uv_handle_t *)&w->poll, watch_closed_cb);
}

static void socket_ready_cb(uv_poll_t *poll, int status, int events)
{
    socket_watch_t *w = poll->data;
    fanout_loop_t *fl = w->fl;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    CURLMcode mc = curl_multi_socket_action(fl->multi, w->fd, flags, &running);
    if (mc != CURLM_OK)
        log_error("curl_multi_socket_action: %s", curl_multi_strerror(mc));
    check_finished(fl);
}

/* curl: start, change or stop watching socket s. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    fanout_loop_t *fl = userp;
    socket_watch_t *w = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (w != NULL) {
            watch_close(w);
            (void)curl_multi_assign(fl->multi, s, NULL);
        }
        return 0;
    }
    if (w == NULL) {
        w = calloc(1, sizeof *w);
        if (w == NULL)
            return -1; /* curl fails this transfer */
        w->fd = s;
        w->fl = fl;
        if (uv_poll_init_socket(fl->loop, &w->poll, s) != 0) {
            free(w);
            return -1;
        }
        w->poll.data = w;
        w->next = fl->watches;
        if (w->next != NULL)
            w->next->prev = w;
        fl->watches = w;
        (void)curl_multi_assign(fl->multi, s, w);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    int rc = uv_poll_start(&w->poll, events, socket_ready_cb);
    if (rc != 0) {
        log_error("uv_poll_start(fd %d): %s", (int)s, uv_strerror(rc));
        return -1;
    }
    return 0;
}

static void timeout_cb(uv_timer_t *timer)
{
    fanout_loop_t *fl = timer->data;
    int running;
    CURLMcode mc = curl_multi_socket_action(fl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    if (mc != CURLM_OK)
        log_error("curl_multi_socket_action(timeout): %s", curl_multi_strerror(mc));
    check_finished(fl);
}

/* curl: call me back in timeout_ms (-1: never). Never call curl from here. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    fanout_loop_t *fl = userp;
    if (timeout_ms < 0)
        return uv_timer_stop(&fl->timer) == 0 ? 0 : -1;
    return uv_timer_start(&fl->timer, timeout_cb, (uint64_t)timeout_ms, 0) == 0 ? 0 : -1;
}

static void idle_push(fanout_loop_t *fl, CURL *easy)
{
    if (fl->idle_count == fl->idle_cap) {
        size_t cap = fl->idle_cap ? fl->idle_cap * 2 : 64;
        CURL **grown = realloc(fl->idle, cap * sizeof *grown);
        if (grown == NULL) {
            curl_easy_cleanup(easy); /* keeping it is only an optimisation */
            return;
        }
        fl->idle = grown;
        fl->idle_cap = cap;
    }
    fl->idle[fl->idle_count++] = easy;
}

static CURL *idle_pop(fanout_loop_t *fl)
{
    if (fl->idle_count > 0)
        return fl->idle[--fl->idle_count];
    return fanout_easy_new(fl->cfg);
}

/* Collect finished transfers; a job whose last call ended is answered. */
static void check_finished(fanout_loop_t *fl)
{
    CURLMsg *msg;
    int queued;
    while ((msg = curl_multi_info_read(fl->multi, &queued)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        fanout_job_t *job = NULL;
        (void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&job);
        fanout_tally(&job->res, easy, code);
        (void)curl_multi_remove_handle(fl->multi, easy);
        idle_push(fl, easy);
        if (--job->pending == 0) {
            job->res.elapsed_ns = clock_now_ns() - job->start_ns;
            job->done(job->arg, &job->res);
            free(job);
        }
    }
}

fanout_loop_t *fanout_loop_new(uv_loop_t *loop, const server_config_t *cfg)
{
    fanout_loop_t *fl = calloc(1, sizeof *fl);
    if (fl == NULL)
        return NULL;
    fl->loop = loop;
    fl->cfg = cfg;
    fl->multi = curl_multi_init();
    if (fl->multi == NULL || uv_timer_init(loop, &fl->timer) != 0) {
        if (fl->multi != NULL)
            curl_multi_cleanup(fl->multi);
        free(fl);
        return NULL;
    }
    fl->timer.data = fl;
    if (curl_multi_setopt(fl->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
        curl_multi_setopt(fl->multi, CURLMOPT_SOCKETDATA, fl) != CURLM_OK ||
        curl_multi_setopt(fl->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
        curl_multi_setopt(fl->multi, CURLMOPT_TIMERDATA, fl) != CURLM_OK ||
        curl_multi_setopt(fl->multi, CURLMOPT_MAXCONNECTS, UPSTREAM_MAX_IDLE_CONNECTIONS) != CURLM_OK) {
        fanout_loop_close(fl);
        return NULL;
    }
    return fl;
}

int fanout_loop_start(fanout_loop_t *fl, fanout_done_cb done, void *arg)
{
    fanout_job_t *job = calloc(1, sizeof *job);
    if (job == NULL)
        return -1;
    job->done = done;
    job->arg = arg;
    job->start_ns = clock_now_ns();
    job->res.calls = fl->cfg->fanout;
    CURL *added[fl->cfg->fanout];
    int n = 0;
    for (; n < fl->cfg->fanout; n++) {
        CURL *easy = idle_pop(fl);
        if (easy == NULL)
            goto fail;
        if (curl_easy_setopt(easy, CURLOPT_PRIVATE, job) != CURLE_OK ||
            curl_multi_add_handle(fl->multi, easy) != CURLM_OK) {
            idle_push(fl, easy);
            goto fail;
        }
        added[n] = easy;
    }
    /* Adding handles armed the timer; transfers begin on the next turn. */
    job->pending = n;
    return 0;
fail:
    log_error("fan-out: cannot start call %d of %d", n + 1, fl->cfg->fanout);
    for (int i = 0; i < n; i++) {
        (void)curl_multi_remove_handle(fl->multi, added[i]);
        idle_push(fl, added[i]);
    }
    free(job);
    return -1;
}

static void driver_closed_cb(uv_handle_t *handle) { free(handle->data); }

void fanout_loop_close(fanout_loop_t *fl)
{
    for (size_t i = 0; i < fl->idle_count; i++)
        curl_easy_cleanup(fl->idle[i]);
    free(fl->idle);
    fl->idle = NULL;
    fl->idle_count = 0;
    /* Cleanup closes cached connections and may still call socket_cb. */
    curl_multi_cleanup(fl->multi);
    while (fl->watches != NULL)
        watch_close(fl->watches);
    fl->timer.data = fl;
    uv_close((uv_handle_t *)&fl->timer, driver_closed_cb);
}
