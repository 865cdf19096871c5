/* The HTTP/1.1 worker: one thread, one epoll loop, its share of the
 * connections. Each connection carries one request at a time: issue
 * (connect first when it has no socket), write the pre-built request, read
 * and parse the response, record it. Then, in the closed loop, it issues
 * the next one; in the open loop (--rate) it waits in the free pool until
 * the plan has a request due (open_loop.h). The pool is a stack: the
 * connection freed last, whose socket is open, goes first, so the run
 * opens only as many connections as the rate needs.
 *
 * epoll is level-triggered and a socket is watched for one direction at a
 * time: EPOLLOUT while connecting or after a short write, EPOLLIN otherwise.
 * On a kept-alive connection the next request is written right after the
 * batch of events that completed the response, so a request costs one
 * send(), one recv() (more for large bodies) and a share of one
 * epoll_wait(): no epoll_ctl, no malloc.
 *
 * Deadlines need no timer wheel: every request has the same timeout and
 * requests are appended to the in-flight list as they are issued, so the
 * list is ordered by deadline and its head is the next to time out. The
 * connect backoff list is ordered the same way. */
#include "http_worker.h"

#include <errno.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "llhttp.h"
#include "log.h"
#include "open_loop.h"
#include "phase.h"
#include "response.h"
#include "stats.h"

enum conn_state {
    CONN_IDLE,       /* no request; the socket (if any) is kept for the next */
    CONN_CONNECTING, /* request issued, non-blocking connect in progress */
    CONN_WRITING,    /* request issued, part of it written */
    CONN_READING,    /* request written, waiting for the whole response */
    CONN_BACKOFF,    /* a connect failed, or --ramp: the next request waits retry_ns */
    CONN_PENDING,    /* closed loop: the next request goes out on the loop's
                      * next turn; open loop: free, waiting for a due one */
};

typedef struct lg_conn {
    int fd;
    enum conn_state state;
    uint32_t epoll_events; /* what fd is registered for; 0: not registered */
    size_t written;
    lg_req_t req;      /* the request in flight */
    uint64_t retry_ns;
    struct lg_conn *prev, *next; /* in exactly one list, or none when idle */
    lg_response_t response;
} lg_conn_t;

typedef struct conn_list {
    lg_conn_t *head, *tail;
    size_t len;
} conn_list_t;

/* The HTTP worker: the shared part first (run.c sees only that). */
typedef struct http_worker {
    lg_worker_t base;
    lg_conn_t *conns;
    int epoll_fd;
    char *read_buf; /* one per thread: responses are parsed as they arrive */
} http_worker_t;

/* The thread's private loop state. */
typedef struct loop {
    http_worker_t *hw;
    lg_worker_t *w;
    lg_run_t *run;
    int open;             /* --rate: the open loop */
    conn_list_t inflight; /* ordered by req.sent_ns: the head times out first */
    conn_list_t backoff;  /* ordered by retry_ns */
    conn_list_t ramp;     /* not started yet (--ramp), ordered by retry_ns */
    conn_list_t pending;  /* issue their next request on the next turn */
    lg_phase_t phase; /* issuing stops when the load ends, a stop comes or -n runs out */
    uint64_t last_end_ns;
} loop_t;

static void conn_write(loop_t *l, lg_conn_t *c);

static void list_push(conn_list_t *l, lg_conn_t *c)
{
    c->next = NULL;
    c->prev = l->tail;
    if (l->tail != NULL)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    l->len++;
}

static void list_push_front(conn_list_t *l, lg_conn_t *c)
{
    c->prev = NULL;
    c->next = l->head;
    if (l->head != NULL)
        l->head->prev = c;
    else
        l->tail = c;
    l->head = c;
    l->len++;
}

static void list_remove(conn_list_t *l, lg_conn_t *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
    l->len--;
}

static void conn_close(lg_conn_t *c)
{
    if (c->fd < 0)
        return;
    /* close() also takes the socket out of epoll. Its error (EINTR, EIO)
     * leaves nothing to retry on Linux: the descriptor is gone. */
    if (close(c->fd) < 0)
        log_debug("close(%d): %s", c->fd, strerror(errno));
    c->fd = -1;
    c->epoll_events = 0;
}

/* A request ended: the progress counters, and the last end for -n's
 * window. */
static void loop_ended(loop_t *l, uint64_t now, int ok, int failed)
{
    l->last_end_ns = now;
    lg_progress_ended(l->w, ok, failed);
}

/* The connection has no request: the closed loop issues its next one on
 * the loop's next turn, the open loop keeps it on top of the free stack. */
static void conn_free(loop_t *l, lg_conn_t *c)
{
    c->state = CONN_PENDING;
    if (l->open)
        list_push_front(&l->pending, c);
    else
        list_push(&l->pending, c);
}

/* The request failed before a response: count it, drop the socket, and
 * queue the connection for its next request (after a backoff for connect
 * errors, so a refused port is not hammered in a busy loop). */
static void conn_fail(loop_t *l, lg_conn_t *c, enum lg_outcome outcome, int err, const char *call)
{
    uint64_t now = clock_now_ns();
    if (log_enabled(LOG_DEBUG))
        log_debug("conn %d: %s: %s", c->fd, call, strerror(err));
    list_remove(&l->inflight, c);
    lg_stats_end(&l->w->stats, &c->req, outcome, 0, now);
    loop_ended(l, now, 0, 1);
    conn_close(c);
    if (outcome == LG_OUTCOME_ERR_CONNECT) {
        c->state = CONN_BACKOFF;
        c->retry_ns = now + LG_CONNECT_BACKOFF_NS;
        list_push(&l->backoff, c);
    } else {
        conn_free(l, c);
    }
}

/* Watch the socket for events (EPOLLIN or EPOLLOUT); a no-op when it
 * already is. Returns 0 or -errno. */
static int conn_watch(loop_t *l, lg_conn_t *c, uint32_t events)
{
    if (c->epoll_events == events)
        return 0;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    int op = c->epoll_events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(l->hw->epoll_fd, op, c->fd, &ev) < 0)
        return -errno;
    c->epoll_events = events;
    return 0;
}

static void conn_connect(loop_t *l, lg_conn_t *c)
{
    const struct sockaddr_in *addr = &l->run->cfg->url.addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        conn_fail(l, c, LG_OUTCOME_ERR_CONNECT, errno, "socket");
        return;
    }
    c->fd = fd;
    c->epoll_events = 0;
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        conn_fail(l, c, LG_OUTCOME_ERR_CONNECT, errno, "setsockopt(TCP_NODELAY)");
        return;
    }
    int rc;
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0) {
        if ((rc = conn_watch(l, c, EPOLLIN)) < 0) {
            conn_fail(l, c, LG_OUTCOME_ERR_CONNECT, -rc, "epoll_ctl");
            return;
        }
        c->state = CONN_WRITING;
        conn_write(l, c);
        return;
    }
    /* EINTR: the connect goes on asynchronously, as with EINPROGRESS. */
    if (errno != EINPROGRESS && errno != EINTR) {
        conn_fail(l, c, LG_OUTCOME_ERR_CONNECT, errno, "connect");
        return;
    }
    if ((rc = conn_watch(l, c, EPOLLOUT)) < 0) {
        conn_fail(l, c, LG_OUTCOME_ERR_CONNECT, -rc, "epoll_ctl");
        return;
    }
    c->state = CONN_CONNECTING;
}

/* Send request r on c: connect first when it has no socket. */
static void conn_send(loop_t *l, lg_conn_t *c, const lg_req_t *r)
{
    c->req = *r;
    lg_stats_issue(&l->w->stats, r->in_warmup);
    lg_progress_issued(l->w);
    list_push(&l->inflight, c);
    lg_response_reset(&c->response);
    c->written = 0;
    if (c->fd < 0) {
        conn_connect(l, c);
        return;
    }
    c->state = CONN_WRITING;
    conn_write(l, c);
}

/* The closed loop: issue the connection's next request, if the run still
 * issues. The latency clock starts here, before the connect when one is
 * needed. */
static void conn_issue(loop_t *l, lg_conn_t *c)
{
    uint64_t now = clock_now_ns();
    if (!lg_phase_may_issue(&l->phase, l->run, now)) {
        c->state = CONN_IDLE;
        return;
    }
    lg_req_t r = {.planned_ns = now, .sent_ns = now, .in_warmup = now < l->run->warmup_end_ns};
    conn_send(l, c, &r);
}

/* The open loop: send every request that is due on a free connection, the
 * most recently used first. A due request with none free waits, its
 * planned time unchanged. */
static void loop_send_due(loop_t *l)
{
    uint64_t now = clock_now_ns();
    while (l->pending.head != NULL && lg_plan_due(l->w, now)) {
        if (!lg_phase_may_issue(&l->phase, l->run, now))
            return;
        lg_conn_t *c = l->pending.head;
        list_remove(&l->pending, c);
        lg_req_t r;
        lg_plan_take(l->w, &r, now);
        conn_send(l, c, &r);
        now = clock_now_ns();
    }
}

static void conn_connected(loop_t *l, lg_conn_t *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0) {
        conn_fail(l, c, LG_OUTCOME_ERR_CONNECT, err, "connect");
        return;
    }
    c->state = CONN_WRITING;
    conn_write(l, c);
}

static void conn_write(loop_t *l, lg_conn_t *c)
{
    const char *text = l->run->request;
    size_t len = l->run->request_len;
    int rc;
    while (c->written < len) {
        ssize_t n = send(c->fd, text + c->written, len - c->written, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if ((rc = conn_watch(l, c, EPOLLOUT)) < 0)
                    conn_fail(l, c, LG_OUTCOME_ERR_WRITE, -rc, "epoll_ctl");
                return;
            }
            conn_fail(l, c, LG_OUTCOME_ERR_WRITE, errno, "send");
            return;
        }
        c->written += (size_t)n;
    }
    if ((rc = conn_watch(l, c, EPOLLIN)) < 0) {
        conn_fail(l, c, LG_OUTCOME_ERR_READ, -rc, "epoll_ctl");
        return;
    }
    c->state = CONN_READING;
}

/* The whole response is in: record it and queue the connection for its
 * next request, on the same socket when both sides keep it alive. The
 * next request goes out after the rest of this batch of events is read:
 * sends (which on loopback carry the server's receive work) then do not
 * delay the timestamps of the responses behind them. */
static void conn_response(loop_t *l, lg_conn_t *c, int must_close)
{
    uint64_t now = clock_now_ns();
    int status = llhttp_get_status_code(&c->response.parser);
    int keep = l->run->cfg->keepalive && !must_close &&
               llhttp_should_keep_alive(&c->response.parser);
    list_remove(&l->inflight, c);
    int ok = status >= 200 && status <= 299;
    lg_stats_end(&l->w->stats, &c->req, LG_OUTCOME_RESPONSE, status, now);
    if (ok)
        lg_window_count_ok(l->run, &l->w->stats, c->req.sent_ns, now);
    loop_ended(l, now, ok, !ok);
    if (!keep)
        conn_close(c);
    conn_free(l, c);
}

static void conn_readable(loop_t *l, lg_conn_t *c)
{
    char *buf = l->hw->read_buf;
    for (;;) {
        ssize_t n = recv(c->fd, buf, LG_READ_BUF_BYTES, 0);
        if (n > 0) {
            lg_response_status_t st = lg_response_feed(&c->response, buf, (size_t)n);
            if (st == LG_RESPONSE_DONE || st == LG_RESPONSE_JUNK) {
                /* Bytes after the response: the server misbehaves; the
                 * response counts, the connection is not reused. */
                conn_response(l, c, st == LG_RESPONSE_JUNK);
                return;
            }
            if (st == LG_RESPONSE_BAD) {
                if (log_enabled(LOG_DEBUG))
                    log_debug("conn %d: bad response: %s (%s)", c->fd,
                              llhttp_errno_name(llhttp_get_errno(&c->response.parser)),
                              llhttp_get_error_reason(&c->response.parser));
                conn_fail(l, c, LG_OUTCOME_ERR_PARSE, EPROTO, "llhttp_execute");
                return;
            }
            /* A short read took all there was; level-triggered epoll says
             * when more comes. A full buffer may have more behind it. */
            if ((size_t)n < LG_READ_BUF_BYTES)
                return;
            continue;
        }
        if (n == 0) {
            /* EOF ends a response that runs until the connection closes;
             * anything else is cut short. */
            if (lg_response_eof(&c->response))
                conn_response(l, c, 1);
            else
                conn_fail(l, c, LG_OUTCOME_ERR_READ, ECONNRESET,
                          "recv (EOF before the response ended)");
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        conn_fail(l, c, LG_OUTCOME_ERR_READ, errno, "recv");
        return;
    }
}

static void conn_event(loop_t *l, lg_conn_t *c, uint32_t events)
{
    switch (c->state) {
    case CONN_CONNECTING:
        conn_connected(l, c);
        break;
    case CONN_WRITING:
        conn_write(l, c);
        break;
    case CONN_READING:
        conn_readable(l, c);
        break;
    case CONN_IDLE:
        /* No request on it: the server closed a kept-alive socket (or
         * sent junk). Drop it; the next request, if any, reconnects. */
        (void)events;
        conn_close(c);
        break;
    case CONN_PENDING:
        /* The open loop's free connection: the server closed its socket
         * (or sent junk); the next request reconnects. The closed loop's
         * goes out before the next epoll_wait: nothing to do now. */
        if (l->open)
            conn_close(c);
        break;
    case CONN_BACKOFF:
        /* Closed socket: nothing to do now. */
        break;
    }
}

static void loop_expire(loop_t *l, uint64_t now)
{
    uint64_t timeout_ns = l->run->timeout_ns;
    while (l->inflight.head != NULL && l->inflight.head->req.sent_ns + timeout_ns <= now) {
        lg_conn_t *c = l->inflight.head;
        list_remove(&l->inflight, c);
        lg_stats_end(&l->w->stats, &c->req, LG_OUTCOME_TIMEOUT, 0, now);
        loop_ended(l, now, 0, 1);
        conn_close(c);
        conn_free(l, c);
    }
}

/* Connections whose wait (connect backoff, --ramp) is over: the closed
 * loop issues on them, the open loop frees them. */
static void loop_wake_waiting(loop_t *l, uint64_t now)
{
    conn_list_t *waiting[] = {&l->backoff, &l->ramp};
    for (size_t i = 0; i < sizeof waiting / sizeof waiting[0]; i++) {
        while (waiting[i]->head != NULL && waiting[i]->head->retry_ns <= now) {
            lg_conn_t *c = waiting[i]->head;
            list_remove(waiting[i], c);
            c->state = CONN_IDLE;
            if (l->open)
                conn_free(l, c);
            else
                conn_issue(l, c);
        }
    }
}

static void loop_issue(loop_t *l, uint64_t now)
{
    if (l->open) {
        loop_wake_waiting(l, now);
        loop_send_due(l);
        return;
    }
    /* Take the list as it is: a request that fails at once goes back on
     * it and waits for the next turn instead of spinning here. */
    lg_conn_t *c = l->pending.head;
    l->pending.head = l->pending.tail = NULL;
    l->pending.len = 0;
    while (c != NULL) {
        lg_conn_t *next = c->next;
        c->prev = c->next = NULL;
        c->state = CONN_IDLE;
        conn_issue(l, c);
        c = next;
    }
    loop_wake_waiting(l, now);
}

/* The next time the loop must wake without an event (UINT64_MAX: none):
 * a timeout, a wait's end, the load's or the drain's end, and in the open
 * loop the next planned request when a connection is free for it. */
static uint64_t loop_next_ns(const loop_t *l)
{
    if (!l->open && l->pending.head != NULL)
        return 0;
    uint64_t next = UINT64_MAX;
    if (l->inflight.head != NULL)
        next = l->inflight.head->req.sent_ns + l->run->timeout_ns;
    if (l->phase.issuing) {
        if (l->backoff.head != NULL && l->backoff.head->retry_ns < next)
            next = l->backoff.head->retry_ns;
        if (l->ramp.head != NULL && l->ramp.head->retry_ns < next)
            next = l->ramp.head->retry_ns;
        if (l->run->load_end_ns < next)
            next = l->run->load_end_ns;
        if (l->open && l->pending.head != NULL && lg_plan_next_ns(l->w) < next)
            next = lg_plan_next_ns(l->w);
    } else if (l->phase.drain_deadline_ns < next) {
        next = l->phase.drain_deadline_ns;
    }
    return next;
}

/* epoll_wait until the next deadline. epoll_pwait2 (Linux 5.11) takes
 * nanoseconds: the open loop's sends keep to their plan within
 * microseconds, not within epoll_wait's rounded-up millisecond. */
static int loop_wait(loop_t *l, struct epoll_event *events, uint64_t now)
{
    static _Atomic int no_pwait2;
    uint64_t next = loop_next_ns(l);
    uint64_t wait_ns = next == UINT64_MAX ? UINT64_MAX : next > now ? next - now : 0;
    if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
        struct timespec ts = {.tv_sec = (time_t)(wait_ns / NS_PER_S),
                              .tv_nsec = (long)(wait_ns % NS_PER_S)};
        int n = epoll_pwait2(l->hw->epoll_fd, events, LG_EPOLL_EVENTS_MAX,
                             wait_ns == UINT64_MAX ? NULL : &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        atomic_store_explicit(&no_pwait2, 1, memory_order_relaxed);
    }
    uint64_t ms = wait_ns == UINT64_MAX ? 0 : (wait_ns + NS_PER_MS - 1) / NS_PER_MS;
    return epoll_wait(l->hw->epoll_fd, events, LG_EPOLL_EVENTS_MAX,
                      wait_ns == UINT64_MAX ? -1 : ms > INT_MAX ? INT_MAX : (int)ms);
}

/* The connections' first requests: all on the first turn, or spread over
 * --ramp: connection j of thread t is the run's (j * threads + t)-th and
 * starts at ramp * that / c, so the threads ramp side by side and the c
 * first requests are spread evenly instead of one burst. The open loop
 * frees them all: its plan says when they send. */
static void loop_start(loop_t *l)
{
    http_worker_t *hw = l->hw;
    const lg_config_t *cfg = l->run->cfg;
    if (l->open)
        lg_plan_start(l->w);
    for (size_t j = 0; j < hw->base.conn_count; j++) {
        lg_conn_t *c = &hw->conns[j];
        uint64_t global = (uint64_t)j * (uint64_t)cfg->threads + (uint64_t)hw->base.index;
        uint64_t offset = l->run->ramp_ns / (uint64_t)cfg->connections * global;
        if (offset == 0) {
            c->state = CONN_PENDING;
            list_push(&l->pending, c);
        } else {
            c->state = CONN_BACKOFF;
            c->retry_ns = l->run->start_ns + offset;
            list_push(&l->ramp, c);
        }
    }
}

/* The run is over for this worker: when its window ended, and what was
 * still in flight is unfinished. */
static void loop_finish(loop_t *l, uint64_t now)
{
    lg_worker_t *w = l->w;
    lg_phase_finish(&l->phase, w, l->inflight.len > 0, l->last_end_ns, now);
    while (l->inflight.head != NULL) {
        lg_conn_t *c = l->inflight.head;
        list_remove(&l->inflight, c);
        lg_stats_end(&w->stats, &c->req, LG_OUTCOME_UNFINISHED, 0, now);
    }
    for (size_t i = 0; i < w->conn_count; i++)
        conn_close(&l->hw->conns[i]);
}

static void *worker_main(void *arg)
{
    http_worker_t *hw = arg;
    lg_worker_t *w = &hw->base;
    loop_t l = {.hw = hw, .w = w, .run = w->run, .open = w->run->schedule != NULL,
                .phase.issuing = 1, .last_end_ns = w->run->start_ns};
    struct epoll_event events[LG_EPOLL_EVENTS_MAX];
    loop_start(&l);
    uint64_t now;
    for (;;) {
        now = clock_now_ns();
        lg_phase_update(&l.phase, l.run, now);
        loop_expire(&l, now);
        loop_issue(&l, now);
        if (l.open && !l.phase.issuing)
            lg_plan_close(w, l.phase.issuing_end_ns);
        if (!l.phase.issuing && (l.inflight.len == 0 || now >= l.phase.drain_deadline_ns))
            break;
        int n = loop_wait(&l, events, now);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* Cannot happen with a valid epoll fd; end like a stop so the
             * results so far are still reported. */
            w->fatal_errno = errno;
            break;
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr != NULL)
                conn_event(&l, events[i].data.ptr, events[i].events);
        }
    }
    loop_finish(&l, now);
    uint64_t one = 1;
    if (write(w->run->done_fd, &one, sizeof one) != (ssize_t)sizeof one)
        log_error("worker %d: write(eventfd): %s", w->index, strerror(errno));
    return NULL;
}

lg_worker_t *lg_http_worker_new(lg_run_t *run, int index, size_t conn_count, char *err,
                             size_t err_len)
{
    void *mem = NULL;
    size_t size = (sizeof(http_worker_t) + 63) / 64 * 64;
    if (posix_memalign(&mem, 64, size) != 0) {
        snprintf(err, err_len, "worker %d: out of memory", index);
        return NULL;
    }
    http_worker_t *hw = mem;
    memset(hw, 0, sizeof *hw);
    lg_worker_t *w = &hw->base;
    w->run = run;
    w->index = index;
    w->conn_count = conn_count;
    hw->epoll_fd = -1;
    lg_progress_reset(w);
    size_t hint = conn_count * LG_SAMPLES_PER_CONN_HINT;
    if (hint > LG_SAMPLES_RESERVE_MAX)
        hint = LG_SAMPLES_RESERVE_MAX;
    if (lg_stats_init(&w->stats, hint) < 0)
        goto oom;
    hw->conns = calloc(conn_count, sizeof *hw->conns);
    hw->read_buf = malloc(LG_READ_BUF_BYTES);
    if (hw->conns == NULL || hw->read_buf == NULL)
        goto oom;
    for (size_t i = 0; i < conn_count; i++) {
        lg_conn_t *c = &hw->conns[i];
        c->fd = -1;
        lg_response_init(&c->response);
    }
    hw->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (hw->epoll_fd < 0) {
        snprintf(err, err_len, "worker %d: epoll_create1: %s", index, strerror(errno));
        lg_http_worker_free(w);
        return NULL;
    }
    /* The wake eventfd is edge-triggered and never read: every write by
     * lg_run_stop() is one edge for each worker. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
    if (epoll_ctl(hw->epoll_fd, EPOLL_CTL_ADD, run->wake_fd, &ev) < 0) {
        snprintf(err, err_len, "worker %d: epoll_ctl(eventfd): %s", index, strerror(errno));
        lg_http_worker_free(w);
        return NULL;
    }
    return w;
oom:
    snprintf(err, err_len, "worker %d: out of memory for %zu connections", index, conn_count);
    lg_http_worker_free(w);
    return NULL;
}

void lg_http_worker_free(lg_worker_t *w)
{
    if (w == NULL)
        return;
    http_worker_t *hw = (http_worker_t *)w;
    if (hw->epoll_fd >= 0 && close(hw->epoll_fd) < 0)
        log_debug("close(epoll): %s", strerror(errno));
    lg_stats_free(&w->stats);
    free(hw->conns);
    free(hw->read_buf);
    free(hw);
}

int lg_http_worker_start(lg_worker_t *w)
{
    return pthread_create(&w->thread, NULL, worker_main, w);
}

int lg_http_worker_join(lg_worker_t *w) { return pthread_join(w->thread, NULL); }
