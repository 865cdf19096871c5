/* The closed loop of one thread. Each connection carries one request at a
 * time: issue (connect first when it has no socket), write the pre-built
 * request, read and parse the response, record it, issue the next one.
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
#include "worker.h"

#include <errno.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "llhttp.h"
#include "log.h"
#include "phase.h"
#include "stats.h"

enum conn_state {
    CONN_IDLE,       /* no request; the socket (if any) is kept for the next */
    CONN_CONNECTING, /* request issued, non-blocking connect in progress */
    CONN_WRITING,    /* request issued, part of it written */
    CONN_READING,    /* request written, waiting for the whole response */
    CONN_BACKOFF,    /* a connect failed, or --ramp: the next request waits retry_ns */
    CONN_PENDING,    /* the next request goes out on the loop's next turn */
};

typedef struct lg_conn {
    int fd;
    enum conn_state state;
    uint32_t epoll_events; /* what fd is registered for; 0: not registered */
    int in_warmup;
    int response_done; /* set by llhttp's on_message_complete */
    size_t written;
    uint64_t start_ns;
    uint64_t retry_ns;
    struct lg_conn *prev, *next; /* in exactly one list, or none when idle */
    llhttp_t parser;
} lg_conn_t;

typedef struct conn_list {
    lg_conn_t *head, *tail;
    size_t len;
} conn_list_t;

/* The thread's private loop state. */
typedef struct loop {
    lg_worker_t *w;
    lg_run_t *run;
    conn_list_t inflight; /* ordered by start_ns: the head times out first */
    conn_list_t backoff;  /* ordered by retry_ns */
    conn_list_t ramp;     /* not started yet (--ramp), ordered by retry_ns */
    conn_list_t pending;  /* issue their next request on the next turn */
    lg_phase_t phase; /* issuing stops when the load ends, a stop comes or -n runs out */
    uint64_t last_end_ns;
} loop_t;

static void conn_write(loop_t *l, lg_conn_t *c);

static int on_message_complete(llhttp_t *parser)
{
    lg_conn_t *c = parser->data;
    c->response_done = 1;
    /* Pause at the end of the message: we never pipeline, so a byte past
     * it is not a response to anything. */
    return HPE_PAUSED;
}

static const llhttp_settings_t parser_settings = {.on_message_complete = on_message_complete};

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

/* The request failed before a response: count it, drop the socket, and
 * queue the connection for its next request (after a backoff for connect
 * errors, so a refused port is not hammered in a busy loop). */
static void conn_fail(loop_t *l, lg_conn_t *c, enum lg_outcome outcome, int err, const char *call)
{
    uint64_t now = clock_now_ns();
    if (log_enabled(LOG_DEBUG))
        log_debug("conn %d: %s: %s", c->fd, call, strerror(err));
    list_remove(&l->inflight, c);
    stats_end(&l->w->stats, c->in_warmup, outcome, 0, 0);
    loop_ended(l, now, 0, 1);
    conn_close(c);
    if (outcome == LG_OUTCOME_ERR_CONNECT) {
        c->state = CONN_BACKOFF;
        c->retry_ns = now + LG_CONNECT_BACKOFF_NS;
        list_push(&l->backoff, c);
    } else {
        c->state = CONN_PENDING;
        list_push(&l->pending, c);
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
    if (epoll_ctl(l->w->epoll_fd, op, c->fd, &ev) < 0)
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

/* Issue the connection's next request, if the run still issues. The
 * latency clock starts here, before the connect when one is needed. */
static void conn_issue(loop_t *l, lg_conn_t *c)
{
    uint64_t now = clock_now_ns();
    if (!lg_phase_may_issue(&l->phase, l->run, now)) {
        c->state = CONN_IDLE;
        return;
    }
    c->start_ns = now;
    c->in_warmup = now < l->run->warmup_end_ns;
    stats_issue(&l->w->stats, c->in_warmup);
    lg_progress_issued(l->w);
    list_push(&l->inflight, c);
    llhttp_reset(&c->parser);
    c->response_done = 0;
    c->written = 0;
    if (c->fd < 0) {
        conn_connect(l, c);
        return;
    }
    c->state = CONN_WRITING;
    conn_write(l, c);
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
    const char *req = l->run->request;
    size_t len = l->run->request_len;
    int rc;
    while (c->written < len) {
        ssize_t n = send(c->fd, req + c->written, len - c->written, MSG_NOSIGNAL);
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
    int status = llhttp_get_status_code(&c->parser);
    int keep = l->run->cfg->keepalive && !must_close && llhttp_should_keep_alive(&c->parser);
    list_remove(&l->inflight, c);
    int ok = status >= 200 && status <= 299;
    stats_end(&l->w->stats, c->in_warmup, LG_OUTCOME_RESPONSE, status, now - c->start_ns);
    if (ok)
        lg_window_count_ok(l->run, &l->w->stats, c->start_ns, now);
    loop_ended(l, now, ok, !ok);
    if (!keep)
        conn_close(c);
    c->state = CONN_PENDING;
    list_push(&l->pending, c);
}

static void conn_readable(loop_t *l, lg_conn_t *c)
{
    char *buf = l->w->read_buf;
    for (;;) {
        ssize_t n = recv(c->fd, buf, LG_READ_BUF_BYTES, 0);
        if (n > 0) {
            llhttp_errno_t rc = llhttp_execute(&c->parser, buf, (size_t)n);
            if (rc == HPE_PAUSED && c->response_done) {
                /* Bytes after the response: the server misbehaves; the
                 * response counts, the connection is not reused. */
                int junk = llhttp_get_error_pos(&c->parser) != buf + n;
                conn_response(l, c, junk);
                return;
            }
            if (rc != HPE_OK) {
                if (log_enabled(LOG_DEBUG))
                    log_debug("conn %d: bad response: %s (%s)", c->fd, llhttp_errno_name(rc),
                              llhttp_get_error_reason(&c->parser));
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
            (void)llhttp_finish(&c->parser);
            if (c->response_done)
                conn_response(l, c, 1);
            else
                conn_fail(l, c, LG_OUTCOME_ERR_READ, ECONNRESET, "recv (EOF before the response ended)");
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
    case CONN_BACKOFF:
    case CONN_PENDING:
        /* Closed socket, or its next request goes out before the next
         * epoll_wait: nothing to do now. */
        break;
    }
}

static void loop_expire(loop_t *l, uint64_t now)
{
    uint64_t timeout_ns = l->run->timeout_ns;
    while (l->inflight.head != NULL && l->inflight.head->start_ns + timeout_ns <= now) {
        lg_conn_t *c = l->inflight.head;
        list_remove(&l->inflight, c);
        stats_end(&l->w->stats, c->in_warmup, LG_OUTCOME_TIMEOUT, 0, 0);
        loop_ended(l, now, 0, 1);
        conn_close(c);
        c->state = CONN_PENDING;
        list_push(&l->pending, c);
    }
}

static void loop_issue_pending(loop_t *l, uint64_t now)
{
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
    conn_list_t *waiting[] = {&l->backoff, &l->ramp};
    for (size_t i = 0; i < sizeof waiting / sizeof waiting[0]; i++) {
        while (waiting[i]->head != NULL && waiting[i]->head->retry_ns <= now) {
            c = waiting[i]->head;
            list_remove(waiting[i], c);
            c->state = CONN_IDLE;
            conn_issue(l, c);
        }
    }
}

/* Milliseconds until the next deadline (-1: none), rounded up so that the
 * loop does not wake just before it. */
static int loop_wait_ms(const loop_t *l, uint64_t now)
{
    if (l->pending.head != NULL)
        return 0;
    uint64_t next = UINT64_MAX;
    if (l->inflight.head != NULL)
        next = l->inflight.head->start_ns + l->run->timeout_ns;
    if (l->phase.issuing) {
        if (l->backoff.head != NULL && l->backoff.head->retry_ns < next)
            next = l->backoff.head->retry_ns;
        if (l->ramp.head != NULL && l->ramp.head->retry_ns < next)
            next = l->ramp.head->retry_ns;
        if (l->run->load_end_ns < next)
            next = l->run->load_end_ns;
    } else if (l->phase.drain_deadline_ns < next) {
        next = l->phase.drain_deadline_ns;
    }
    if (next == UINT64_MAX)
        return -1;
    if (next <= now)
        return 0;
    uint64_t ms = (next - now + NS_PER_MS - 1) / NS_PER_MS;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void *worker_main(void *arg)
{
    lg_worker_t *w = arg;
    loop_t l = {.w = w, .run = w->run, .phase.issuing = 1, .last_end_ns = w->run->start_ns};
    struct epoll_event events[LG_EPOLL_EVENTS_MAX];

    /* Connection j of thread t is the run's (j * threads + t)-th: with a
     * ramp it starts at ramp * that / c, so the threads ramp side by side
     * and the c first requests are spread evenly instead of one burst. */
    const lg_config_t *cfg = w->run->cfg;
    for (size_t j = 0; j < w->conn_count; j++) {
        lg_conn_t *c = &w->conns[j];
        uint64_t global = (uint64_t)j * (uint64_t)cfg->threads + (uint64_t)w->index;
        uint64_t offset = w->run->ramp_ns / (uint64_t)cfg->connections * global;
        if (offset == 0) {
            c->state = CONN_PENDING;
            list_push(&l.pending, c);
        } else {
            c->state = CONN_BACKOFF;
            c->retry_ns = w->run->start_ns + offset;
            list_push(&l.ramp, c);
        }
    }
    uint64_t now;
    for (;;) {
        now = clock_now_ns();
        lg_phase_update(&l.phase, l.run, now);
        loop_expire(&l, now);
        loop_issue_pending(&l, now);
        if (!l.phase.issuing && (l.inflight.len == 0 || now >= l.phase.drain_deadline_ns))
            break;
        int n = epoll_wait(w->epoll_fd, events, LG_EPOLL_EVENTS_MAX, loop_wait_ms(&l, now));
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
    /* The measured window of a timed run ends with the load (requests
     * that straddle its end count for their share in it,
     * lg_window_count_ok);
     * a run of -n requests ends with its last request (or now, when a
     * stop's deadline cut some short). */
    if (l.run->count_mode)
        w->finish_ns = l.inflight.len > 0 ? now : l.last_end_ns;
    else
        w->finish_ns = l.phase.issuing ? now : l.phase.issuing_end_ns;
    while (l.inflight.head != NULL) {
        lg_conn_t *c = l.inflight.head;
        list_remove(&l.inflight, c);
        stats_end(&w->stats, c->in_warmup, LG_OUTCOME_UNFINISHED, 0, 0);
    }
    for (size_t i = 0; i < w->conn_count; i++)
        conn_close(&w->conns[i]);
    uint64_t one = 1;
    if (write(w->run->done_fd, &one, sizeof one) != (ssize_t)sizeof one)
        log_error("worker %d: write(eventfd): %s", w->index, strerror(errno));
    return NULL;
}

lg_worker_t *worker_new(lg_run_t *run, int index, size_t conn_count, char *err, size_t err_len)
{
    void *mem = NULL;
    size_t size = (sizeof(lg_worker_t) + 63) / 64 * 64;
    if (posix_memalign(&mem, 64, size) != 0) {
        snprintf(err, err_len, "worker %d: out of memory", index);
        return NULL;
    }
    lg_worker_t *w = mem;
    memset(w, 0, sizeof *w);
    w->run = run;
    w->index = index;
    w->conn_count = conn_count;
    w->epoll_fd = -1;
    lg_progress_reset(w);
    size_t hint = conn_count * LG_SAMPLES_PER_CONN_HINT;
    if (hint > LG_SAMPLES_RESERVE_MAX)
        hint = LG_SAMPLES_RESERVE_MAX;
    if (stats_init(&w->stats, hint) < 0)
        goto oom;
    w->conns = calloc(conn_count, sizeof *w->conns);
    w->read_buf = malloc(LG_READ_BUF_BYTES);
    if (w->conns == NULL || w->read_buf == NULL)
        goto oom;
    for (size_t i = 0; i < conn_count; i++) {
        lg_conn_t *c = &w->conns[i];
        c->fd = -1;
        llhttp_init(&c->parser, HTTP_RESPONSE, &parser_settings);
        c->parser.data = c;
    }
    w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epoll_fd < 0) {
        snprintf(err, err_len, "worker %d: epoll_create1: %s", index, strerror(errno));
        worker_free(w);
        return NULL;
    }
    /* The wake eventfd is edge-triggered and never read: every write by
     * run_stop() is one edge for each worker. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
    if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, run->wake_fd, &ev) < 0) {
        snprintf(err, err_len, "worker %d: epoll_ctl(eventfd): %s", index, strerror(errno));
        worker_free(w);
        return NULL;
    }
    return w;
oom:
    snprintf(err, err_len, "worker %d: out of memory for %zu connections", index, conn_count);
    worker_free(w);
    return NULL;
}

void worker_free(lg_worker_t *w)
{
    if (w == NULL)
        return;
    if (w->epoll_fd >= 0 && close(w->epoll_fd) < 0)
        log_debug("close(epoll): %s", strerror(errno));
    stats_free(&w->stats);
    free(w->conns);
    free(w->read_buf);
    free(w);
}

int worker_start(lg_worker_t *w) { return pthread_create(&w->thread, NULL, worker_main, w); }

int worker_join(lg_worker_t *w) { return pthread_join(w->thread, NULL); }
