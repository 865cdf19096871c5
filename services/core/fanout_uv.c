/* Non-blocking fan-out: curl's multi socket interface driven by a libuv
 * loop. curl tells us which sockets to watch (socket_cb) and when to call
 * it back (timer_cb); the loop tells curl when they are ready.
 *
 * Three choices keep a burst of c x FANOUT calls (1000 at c=100, all at
 * once, every round) cheap; each was measured with curl 7.88:
 *
 * - One multi handle per fan-out in flight (a "shard"), not one per loop.
 *   To start a transfer, curl walks every connection to the same host:port
 *   in its multi's cache, busy ones included: with one multi a round
 *   walked ~(c x FANOUT)^2 / 2 entries. A shard serves one fan-out at a
 *   time and keeps that fan-out's FANOUT connections idle in between, so
 *   the walk is at most FANOUT long and the next fan-out to take the shard
 *   reuses them. Free shards are a LIFO list (the warmest first); there are
 *   never more of them than fan-outs were in flight at once.
 *
 * - One DNS cache for every shard (a curl share). Each multi has a cache
 *   of its own: per shard, each new shard resolved the upstream's name
 *   again, in Docker a resolver thread and a query to the engine's DNS per
 *   connection.
 *
 * - curl's sockets are watched in one epoll set of ours, and the loop
 *   watches that set (one uv_poll). A uv_poll per socket costs, per call,
 *   uv_poll_init (epoll_ctl ADD + DEL, ioctl), uv_poll_start (DEL, ADD)
 *   and uv_close (DEL): libuv re-registers a handle on every start. Here a
 *   change of what curl waits for is one epoll_ctl, and a socket curl
 *   stops watching between calls stays registered: the next call on that
 *   kept-alive connection is one EPOLL_CTL_MOD. The kernel drops a closed
 *   socket from the set by itself, so nothing stale can stay registered.
 *   Linux only, as the lab is. */
#include "fanout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define EPOLL_BATCH 256 /* events taken from our set per turn of the loop */

typedef struct shard_s shard_t;

typedef struct fanout_job_s {
    fanout_done_cb done;
    void *arg;
    int pending;
    uint64_t start_ns;
    fanout_result_t res;
} fanout_job_t;

/* A multi handle, its timer and its idle connections; serves one job. */
struct shard_s {
    fanout_loop_t *fl;
    CURLM *multi;
    uv_timer_t timer;
    shard_t *next_free; /* on fl->free_shards */
    shard_t *next_all;  /* on fl->shards */
};

struct fanout_loop_s {
    uv_loop_t *loop;
    const server_config_t *cfg;
    CURLSH *share;        /* one DNS cache for every shard */
    int epoll_fd;         /* curl's sockets */
    uv_poll_t epoll_poll; /* the loop's watch on epoll_fd */
    shard_t **owner;      /* by fd: the shard whose curl waits on it, or NULL */
    size_t owner_cap;
    shard_t *shards;      /* every shard, closed with the driver */
    shard_t *free_shards; /* shards with no job, most recently used first */
    int open_handles;     /* handles not yet closed after fanout_loop_close */
    uv_idle_t close_soon; /* runs fanout_loop_close on the loop's next turn */
    CURL **idle;          /* easy handles ready for reuse */
    size_t idle_count, idle_cap;
};

static void check_finished(shard_t *shard);

/* ---- sockets ---- */

/* Room in fl->owner for fd. Returns 0 or -1. */
static int owner_reserve(fanout_loop_t *fl, curl_socket_t fd)
{
    if ((size_t)fd < fl->owner_cap)
        return 0;
    size_t cap = fl->owner_cap ? fl->owner_cap : 1024;
    while (cap <= (size_t)fd)
        cap *= 2;
    shard_t **grown = realloc(fl->owner, cap * sizeof *grown);
    if (grown == NULL)
        return -1;
    memset(grown + fl->owner_cap, 0, (cap - fl->owner_cap) * sizeof *grown);
    fl->owner = grown;
    fl->owner_cap = cap;
    return 0;
}

/* curl: start, change or stop watching socket s. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    shard_t *shard = userp;
    fanout_loop_t *fl = shard->fl;
    if (what == CURL_POLL_REMOVE) {
        /* Left registered: an idle connection is usually taken again soon.
         * An event meanwhile finds no owner and unregisters it. Only our
         * own claim is dropped: the number may be another shard's now. */
        if ((size_t)s < fl->owner_cap && fl->owner[s] == shard)
            fl->owner[s] = NULL;
        return 0;
    }
    if (owner_reserve(fl, s) != 0)
        return -1; /* curl fails this transfer */
    struct epoll_event ev = {.events = 0, .data.fd = s};
    if (what & CURL_POLL_IN)
        ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        ev.events |= EPOLLOUT;
    /* MOD first: a kept-alive connection is still registered. */
    if (epoll_ctl(fl->epoll_fd, EPOLL_CTL_MOD, s, &ev) != 0 &&
        (errno != ENOENT || epoll_ctl(fl->epoll_fd, EPOLL_CTL_ADD, s, &ev) != 0)) {
        log_error("epoll_ctl(fd %d): %s", (int)s, strerror(errno));
        return -1;
    }
    fl->owner[s] = shard;
    return 0;
}

/* Hand every ready socket of our set to its shard's curl. */
static void serve_ready_sockets(fanout_loop_t *fl)
{
    struct epoll_event evs[EPOLL_BATCH];
    int n = epoll_wait(fl->epoll_fd, evs, EPOLL_BATCH, 0);
    if (n < 0 && errno != EINTR)
        log_error("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        curl_socket_t fd = evs[i].data.fd;
        shard_t *shard = (size_t)fd < fl->owner_cap ? fl->owner[fd] : NULL;
        if (shard == NULL) {
            /* curl stopped watching it: no more events for this socket.
             * It may be closed already (EBADF, ENOENT): nothing to undo. */
            (void)epoll_ctl(fl->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
            continue;
        }
        int flags = 0;
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
            flags |= CURL_CSELECT_IN;
        if (evs[i].events & EPOLLOUT)
            flags |= CURL_CSELECT_OUT;
        if (evs[i].events & EPOLLERR)
            flags |= CURL_CSELECT_ERR;
        int running;
        CURLMcode mc = curl_multi_socket_action(shard->multi, fd, flags, &running);
        if (mc != CURLM_OK)
            log_error("curl_multi_socket_action: %s", curl_multi_strerror(mc));
        check_finished(shard);
    }
}

static void epoll_ready_cb(uv_poll_t *poll, int status, int events)
{
    (void)events;
    if (status < 0) {
        log_error("watching the upstream sockets: %s", uv_strerror(status));
        return;
    }
    serve_ready_sockets(poll->data);
}

/* ---- timers ---- */

static void timeout_cb(uv_timer_t *timer)
{
    shard_t *shard = timer->data;
    int running;
    CURLMcode mc = curl_multi_socket_action(shard->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    if (mc != CURLM_OK)
        log_error("curl_multi_socket_action(timeout): %s", curl_multi_strerror(mc));
    check_finished(shard);
    /* New connections are usually connected at once (the upstream is a
     * hop away): send their requests now, before the loop's other timers
     * open the next fan-outs' connections, rather than after all of them. */
    serve_ready_sockets(shard->fl);
}

/* curl: call me back in timeout_ms (-1: never). Never call curl from here. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    shard_t *shard = userp;
    if (timeout_ms < 0)
        return uv_timer_stop(&shard->timer) == 0 ? 0 : -1;
    return uv_timer_start(&shard->timer, timeout_cb, (uint64_t)timeout_ms, 0) == 0 ? 0 : -1;
}

/* ---- easy handles ---- */

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
    CURL *easy = fanout_easy_new(fl->cfg);
    if (easy != NULL && curl_easy_setopt(easy, CURLOPT_SHARE, fl->share) != CURLE_OK) {
        curl_easy_cleanup(easy);
        return NULL;
    }
    return easy;
}

/* ---- shards ---- */

static void loop_free(fanout_loop_t *fl)
{
    (void)curl_share_cleanup(fl->share);
    free(fl->owner);
    free(fl);
}

/* The driver's handles: the epoll watch (data: fl) and each shard's timer
 * (data: the shard). The last one to close frees fl. */
static void handle_closed_cb(uv_handle_t *handle)
{
    fanout_loop_t *fl = handle->data;
    if (handle->type == UV_TIMER) {
        shard_t *shard = handle->data;
        fl = shard->fl;
        free(shard);
    }
    if (--fl->open_handles == 0)
        loop_free(fl);
}

/* A new shard, on fl->shards but not free. NULL when out of resources. */
static shard_t *shard_new(fanout_loop_t *fl)
{
    shard_t *shard = calloc(1, sizeof *shard);
    if (shard == NULL)
        return NULL;
    shard->fl = fl;
    shard->multi = curl_multi_init();
    if (shard->multi == NULL || uv_timer_init(fl->loop, &shard->timer) != 0) {
        if (shard->multi != NULL)
            curl_multi_cleanup(shard->multi);
        free(shard);
        return NULL;
    }
    shard->timer.data = shard;
    shard->next_all = fl->shards;
    fl->shards = shard;
    /* MAXCONNECTS: curl's default, four per easy handle *currently added*,
     * shrinks to nothing when the job's handles are removed; keep the
     * job's FANOUT connections for the next job instead. */
    if (curl_multi_setopt(shard->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
        curl_multi_setopt(shard->multi, CURLMOPT_SOCKETDATA, shard) != CURLM_OK ||
        curl_multi_setopt(shard->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
        curl_multi_setopt(shard->multi, CURLMOPT_TIMERDATA, shard) != CURLM_OK ||
        curl_multi_setopt(shard->multi, CURLMOPT_MAXCONNECTS, (long)fl->cfg->fanout) != CURLM_OK)
        return NULL; /* stays on fl->shards, unused: closed with the driver */
    return shard;
}

static shard_t *shard_take(fanout_loop_t *fl)
{
    shard_t *shard = fl->free_shards;
    if (shard == NULL)
        return shard_new(fl);
    fl->free_shards = shard->next_free;
    shard->next_free = NULL;
    return shard;
}

static void shard_release(shard_t *shard)
{
    shard->next_free = shard->fl->free_shards;
    shard->fl->free_shards = shard;
}

/* Collect finished transfers; a job whose last call ended is answered and
 * its shard goes back on the free list. */
static void check_finished(shard_t *shard)
{
    fanout_loop_t *fl = shard->fl;
    CURLMsg *msg;
    int queued;
    while ((msg = curl_multi_info_read(shard->multi, &queued)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        fanout_job_t *job = NULL;
        (void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&job);
        fanout_tally(&job->res, easy, code);
        (void)curl_multi_remove_handle(shard->multi, easy);
        idle_push(fl, easy);
        if (--job->pending == 0) {
            job->res.elapsed_ns = clock_now_ns() - job->start_ns;
            shard_release(shard);
            job->done(job->arg, &job->res);
            free(job);
        }
    }
}

/* ---- the driver ---- */

fanout_loop_t *fanout_loop_new(uv_loop_t *loop, const server_config_t *cfg)
{
    fanout_loop_t *fl = calloc(1, sizeof *fl);
    if (fl == NULL)
        return NULL;
    fl->loop = loop;
    fl->cfg = cfg;
    fl->share = curl_share_init();
    if (fl->share == NULL ||
        curl_share_setopt(fl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)
        goto fail;
    fl->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (fl->epoll_fd < 0) {
        log_error("epoll_create1: %s", strerror(errno));
        goto fail;
    }
    int rc = uv_poll_init(loop, &fl->epoll_poll, fl->epoll_fd);
    if (rc == 0) {
        fl->epoll_poll.data = fl;
        fl->open_handles = 1;
        (void)uv_idle_init(loop, &fl->close_soon); /* cannot fail */
        fl->close_soon.data = fl;
        rc = uv_poll_start(&fl->epoll_poll, UV_READABLE, epoll_ready_cb);
        if (rc != 0) {
            log_error("uv_poll_start: %s", uv_strerror(rc));
            fanout_loop_close(fl); /* frees fl once the poll has closed */
            return NULL;
        }
    } else {
        log_error("uv_poll_init: %s", uv_strerror(rc));
        (void)close(fl->epoll_fd);
        goto fail;
    }
    return fl; /* shards are made on demand */
fail:
    if (fl->share != NULL)
        (void)curl_share_cleanup(fl->share);
    free(fl);
    return NULL;
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
    shard_t *shard = shard_take(fl);
    if (shard == NULL)
        goto fail;
    for (; n < fl->cfg->fanout; n++) {
        CURL *easy = idle_pop(fl);
        if (easy == NULL)
            goto fail;
        if (curl_easy_setopt(easy, CURLOPT_PRIVATE, job) != CURLE_OK ||
            curl_multi_add_handle(shard->multi, easy) != CURLM_OK) {
            idle_push(fl, easy);
            goto fail;
        }
        added[n] = easy;
    }
    /* Adding handles armed the shard's timer; transfers begin on the next
     * turn of the loop. */
    job->pending = n;
    return 0;
fail:
    log_error("fan-out: cannot start call %d of %d", n + 1, fl->cfg->fanout);
    for (int i = 0; i < n; i++) {
        (void)curl_multi_remove_handle(shard->multi, added[i]);
        idle_push(fl, added[i]);
    }
    if (shard != NULL)
        shard_release(shard);
    free(job);
    return -1;
}

void fanout_loop_close(fanout_loop_t *fl)
{
    for (size_t i = 0; i < fl->idle_count; i++)
        curl_easy_cleanup(fl->idle[i]);
    free(fl->idle);
    fl->idle = NULL;
    fl->idle_count = 0;
    /* Cleanup closes cached connections and may still call socket_cb. */
    for (shard_t *shard = fl->shards; shard != NULL; shard = shard->next_all)
        curl_multi_cleanup(shard->multi);
    shard_t *next;
    for (shard_t *shard = fl->shards; shard != NULL; shard = next) {
        next = shard->next_all;
        fl->open_handles++;
        uv_close((uv_handle_t *)&shard->timer, handle_closed_cb);
    }
    fl->shards = NULL;
    fl->free_shards = NULL;
    fl->open_handles++;
    uv_close((uv_handle_t *)&fl->close_soon, handle_closed_cb);
    /* uv_close unregisters the fd at once; the set can be closed now. */
    uv_close((uv_handle_t *)&fl->epoll_poll, handle_closed_cb);
    (void)close(fl->epoll_fd);
}

static void close_soon_cb(uv_idle_t *idle)
{
    fanout_loop_close(idle->data);
}

void fanout_loop_close_soon(fanout_loop_t *fl)
{
    if (!uv_is_active((uv_handle_t *)&fl->close_soon) &&
        uv_idle_start(&fl->close_soon, close_soon_cb) != 0)
        log_error("cannot schedule the upstream driver's close");
}
