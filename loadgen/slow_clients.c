#include "slow_clients.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "percentile.h"

/* The timer's period: trickles, reconnects and the probe are due on it. */
#define SLOW_TICK_MS 50
#define SLOW_EVENTS_MAX 256
/* The HTTP/2 client preface, sent one byte per interval to a gRPC server. */
static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum slow_state { SLOW_WAITING, SLOW_CONNECTING, SLOW_HOLDING };

typedef struct slow_conn {
    int fd;
    enum slow_state state;
    int first;          /* its first connect has not ended yet */
    uint64_t opened_ns; /* connected */
    uint64_t next_ns;   /* the next trickle, or the reconnect */
    long sent;          /* header lines (gRPC: preface bytes) sent */
    char answer[16];    /* the first bytes the server sent, if any */
    size_t answer_len;
} slow_conn_t;

typedef struct slow_probe {
    int fd; /* -1: none in flight */
    int sent;
    uint64_t started_ns, next_ns;
    char head[64];
    size_t head_len;
    uint64_t *latency_ns;
    size_t count, cap;
} slow_probe_t;

struct lg_slow_clients {
    const lg_config_t *cfg;
    pthread_t thread;
    int epoll_fd, timer_fd, stop_fd, ready_fd;
    slow_conn_t *conns;
    long count;
    slow_probe_t probe;
    uint64_t interval_ns;
    long first_pending; /* first connects not ended: ready_fd fires at 0 */
    _Atomic long holding; /* connections open now (read by the caller) */
    lg_slow_result_t res;
};

/* epoll's data: a connection's index, or one of these past the last. */
#define TAG_PROBE(s) ((uint64_t)(s)->count)
#define TAG_TIMER(s) ((uint64_t)(s)->count + 1)
#define TAG_STOP(s) ((uint64_t)(s)->count + 2)

static void signal_ready(lg_slow_clients_t *s)
{
    uint64_t one = 1;
    if (write(s->ready_fd, &one, sizeof one) != (ssize_t)sizeof one)
        log_error("write(eventfd): %s", strerror(errno));
}

static void first_ended(lg_slow_clients_t *s, slow_conn_t *c)
{
    if (!c->first)
        return;
    c->first = 0;
    if (--s->first_pending == 0)
        signal_ready(s);
}

static int watch(lg_slow_clients_t *s, int fd, int op, uint32_t events, uint64_t tag)
{
    struct epoll_event ev = {.events = events, .data.u64 = tag};
    return epoll_ctl(s->epoll_fd, op, fd, &ev) < 0 ? -errno : 0;
}

/* A non-blocking connect to the target; the descriptor, or -errno. */
static int open_socket(const lg_slow_clients_t *s)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    const struct sockaddr_in *addr = &s->cfg->url.addr;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
        (connect(fd, (const struct sockaddr *)addr, sizeof *addr) < 0 && errno != EINPROGRESS &&
         errno != EINTR)) {
        int e = errno;
        (void)close(fd);
        return -e;
    }
    return fd;
}

static int socket_error(int fd)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        return errno;
    return e;
}

static void conn_wait(lg_slow_clients_t *s, slow_conn_t *c, uint64_t now)
{
    if (c->state == SLOW_HOLDING)
        atomic_fetch_sub(&s->holding, 1);
    if (c->fd >= 0)
        (void)close(c->fd);
    c->fd = -1;
    c->state = SLOW_WAITING;
    c->next_ns = now + (uint64_t)LG_SLOW_RECONNECT_MS * NS_PER_MS;
}

static void conn_connect(lg_slow_clients_t *s, slow_conn_t *c, uint64_t now)
{
    int fd = open_socket(s);
    int rc = fd < 0 ? fd : watch(s, fd, EPOLL_CTL_ADD, EPOLLOUT, (uint64_t)(c - s->conns));
    if (rc < 0) {
        if (fd >= 0)
            (void)close(fd);
        log_debug("slow client: connect: %s", strerror(-rc));
        s->res.connect_errors++;
        first_ended(s, c);
        conn_wait(s, c, now);
        return;
    }
    c->fd = fd;
    c->state = SLOW_CONNECTING;
}

/* The server ended a slow connection: count how, then open it again. */
static void conn_closed(lg_slow_clients_t *s, slow_conn_t *c, uint64_t now)
{
    lg_slow_result_t *r = &s->res;
    r->closed_by_server++;
    double held_s = (double)(now - c->opened_ns) / 1e9;
    if (held_s > r->held_max_s)
        r->held_max_s = held_s;
    if (c->answer_len >= 12 && memcmp(c->answer, "HTTP/1.", 7) == 0) {
        r->answered++;
        if (memcmp(c->answer + 9, "408", 3) == 0)
            r->status_408++;
        else if (memcmp(c->answer + 9, "431", 3) == 0)
            r->status_431++;
        else
            r->status_other++;
    }
    c->answer_len = 0;
    conn_wait(s, c, now);
}

/* The next piece of the never-finished request: its first line and Host
 * first, then one header line; to a gRPC server, one preface byte. */
static void conn_trickle(lg_slow_clients_t *s, slow_conn_t *c, uint64_t now)
{
    char line[LG_HOST_MAX + 64];
    int len;
    if (s->cfg->grpc) {
        if ((size_t)c->sent >= sizeof h2_preface - 1) {
            c->next_ns = UINT64_MAX; /* the preface is out: hold it open */
            return;
        }
        line[0] = h2_preface[c->sent];
        len = 1;
    } else if (c->sent == 0) {
        len = snprintf(line, sizeof line, "GET /healthz HTTP/1.1\r\nHost: %s\r\n",
                       s->cfg->url.host_header);
    } else {
        len = snprintf(line, sizeof line, "X-Slow-%ld: 1\r\n", c->sent);
    }
    ssize_t n = send(c->fd, line, (size_t)len, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        conn_closed(s, c, now);
        return;
    }
    if (n == len)
        c->sent++;
    c->next_ns = now + s->interval_ns;
}

static void conn_event(lg_slow_clients_t *s, slow_conn_t *c, uint32_t events, uint64_t now)
{
    if (c->state == SLOW_CONNECTING) {
        int e = socket_error(c->fd);
        if (e != 0 || watch(s, c->fd, EPOLL_CTL_MOD, EPOLLIN | EPOLLRDHUP,
                            (uint64_t)(c - s->conns)) < 0) {
            s->res.connect_errors++;
            first_ended(s, c);
            conn_wait(s, c, now);
            return;
        }
        s->res.connects++;
        atomic_fetch_add(&s->holding, 1); /* before the waiter is woken */
        first_ended(s, c);
        c->state = SLOW_HOLDING;
        c->opened_ns = now;
        c->sent = 0;
        conn_trickle(s, c, now);
        return;
    }
    if (c->state != SLOW_HOLDING || !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        return;
    char buf[4096];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n > 0) {
            size_t keep = sizeof c->answer - c->answer_len;
            if (keep > (size_t)n)
                keep = (size_t)n;
            memcpy(c->answer + c->answer_len, buf, keep);
            c->answer_len += keep;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        conn_closed(s, c, now); /* EOF or reset */
        return;
    }
}

static void probe_end(lg_slow_clients_t *s, int ok, uint64_t now)
{
    slow_probe_t *p = &s->probe;
    s->res.probes++;
    if (ok)
        s->res.probes_ok++;
    else
        s->res.probes_failed++;
    if (p->fd >= 0)
        (void)close(p->fd);
    p->fd = -1;
    uint64_t next = p->started_ns + (uint64_t)LG_SLOW_PROBE_INTERVAL_MS * NS_PER_MS;
    p->next_ns = next > now ? next : now;
}

static void probe_record(slow_probe_t *p, uint64_t latency_ns)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        uint64_t *grown = realloc(p->latency_ns, cap * sizeof *grown);
        if (grown == NULL)
            return; /* the probe still counts; its latency is lost */
        p->latency_ns = grown;
        p->cap = cap;
    }
    p->latency_ns[p->count++] = latency_ns;
}

static void probe_start(lg_slow_clients_t *s, uint64_t now)
{
    slow_probe_t *p = &s->probe;
    p->started_ns = now;
    p->sent = 0;
    p->head_len = 0;
    int fd = open_socket(s);
    if (fd >= 0 && watch(s, fd, EPOLL_CTL_ADD, EPOLLOUT, TAG_PROBE(s)) < 0) {
        (void)close(fd);
        fd = -1;
    }
    p->fd = fd;
    if (fd < 0)
        probe_end(s, 0, now);
}

/* The probe's request goes out once connected; its answer counts when its
 * status line and headers are in. */
static void probe_event(lg_slow_clients_t *s, uint64_t now)
{
    slow_probe_t *p = &s->probe;
    if (p->fd < 0)
        return;
    if (!p->sent) {
        char req[LG_HOST_MAX + 96];
        int len = snprintf(req, sizeof req,
                           "GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                           s->cfg->url.host_header);
        if (socket_error(p->fd) != 0 ||
            send(p->fd, req, (size_t)len, MSG_NOSIGNAL) != (ssize_t)len ||
            watch(s, p->fd, EPOLL_CTL_MOD, EPOLLIN | EPOLLRDHUP, TAG_PROBE(s)) < 0) {
            probe_end(s, 0, now);
            return;
        }
        p->sent = 1;
        return;
    }
    for (;;) {
        size_t room = sizeof p->head - 1 - p->head_len;
        char sink[4096];
        ssize_t n = room > 0 ? recv(p->fd, p->head + p->head_len, room, 0)
                             : recv(p->fd, sink, sizeof sink, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            probe_end(s, 0, now);
            return;
        }
        if (room == 0)
            continue;
        p->head_len += (size_t)n;
        p->head[p->head_len] = '\0';
        /* The status line is all it waits for: /healthz is one segment. */
        if (strstr(p->head, "\r\n") != NULL) {
            int ok = strncmp(p->head, "HTTP/1.1 200", 12) == 0 ||
                     strncmp(p->head, "HTTP/1.0 200", 12) == 0;
            probe_record(p, now - p->started_ns);
            probe_end(s, ok, now);
            return;
        }
    }
}

static void tick(lg_slow_clients_t *s, uint64_t now)
{
    uint64_t expiry;
    if (read(s->timer_fd, &expiry, sizeof expiry) < 0 && errno != EAGAIN)
        log_debug("read(timerfd): %s", strerror(errno));
    for (long i = 0; i < s->count; i++) {
        slow_conn_t *c = &s->conns[i];
        if (c->next_ns > now)
            continue;
        if (c->state == SLOW_WAITING)
            conn_connect(s, c, now);
        else if (c->state == SLOW_HOLDING)
            conn_trickle(s, c, now);
    }
    slow_probe_t *p = &s->probe;
    if (s->cfg->grpc)
        return;
    if (p->fd < 0 && now >= p->next_ns)
        probe_start(s, now);
    else if (p->fd >= 0 && now - p->started_ns >= (uint64_t)LG_SLOW_PROBE_TIMEOUT_MS * NS_PER_MS) {
        probe_record(p, now - p->started_ns);
        probe_end(s, 0, now);
    }
}

static void *slow_main(void *arg)
{
    lg_slow_clients_t *s = arg;
    uint64_t now = clock_now_ns();
    for (long i = 0; i < s->count; i++)
        conn_connect(s, &s->conns[i], now);
    struct epoll_event events[SLOW_EVENTS_MAX];
    for (;;) {
        int n = epoll_wait(s->epoll_fd, events, SLOW_EVENTS_MAX, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_error("slow clients: epoll_wait: %s", strerror(errno));
            break;
        }
        now = clock_now_ns();
        for (int i = 0; i < n; i++) {
            uint64_t tag = events[i].data.u64;
            if (tag == TAG_STOP(s))
                return NULL;
            if (tag == TAG_TIMER(s))
                tick(s, now);
            else if (tag == TAG_PROBE(s))
                probe_event(s, now);
            else
                conn_event(s, &s->conns[tag], events[i].events, now);
        }
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void slow_free(lg_slow_clients_t *s)
{
    for (long i = 0; s->conns != NULL && i < s->count; i++)
        if (s->conns[i].fd >= 0)
            (void)close(s->conns[i].fd);
    if (s->probe.fd >= 0)
        (void)close(s->probe.fd);
    int fds[] = {s->epoll_fd, s->timer_fd, s->stop_fd, s->ready_fd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            (void)close(fds[i]);
    free(s->conns);
    free(s->probe.latency_ns);
    free(s);
}

/* The epoll loop's descriptors: the timer ticking every SLOW_TICK_MS and
 * the stop eventfd, watched. Returns 0 or -1 with a message. */
static int slow_loop_init(lg_slow_clients_t *s, char *err, size_t err_len)
{
    s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->ready_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->epoll_fd < 0 || s->timer_fd < 0 || s->stop_fd < 0 || s->ready_fd < 0) {
        snprintf(err, err_len, "slow clients: %s", strerror(errno));
        return -1;
    }
    struct itimerspec period = {.it_interval = {.tv_nsec = SLOW_TICK_MS * 1000000L},
                                .it_value = {.tv_nsec = SLOW_TICK_MS * 1000000L}};
    int rc = timerfd_settime(s->timer_fd, 0, &period, NULL) < 0 ? -errno : 0;
    if (rc == 0)
        rc = watch(s, s->timer_fd, EPOLL_CTL_ADD, EPOLLIN, TAG_TIMER(s));
    if (rc == 0)
        rc = watch(s, s->stop_fd, EPOLL_CTL_ADD, EPOLLIN, TAG_STOP(s));
    if (rc < 0) {
        snprintf(err, err_len, "slow clients: %s", strerror(-rc));
        return -1;
    }
    return 0;
}

int lg_slow_clients_start(const lg_config_t *cfg, lg_slow_clients_t **out, char *err,
                          size_t err_len)
{
    lg_slow_clients_t *s = calloc(1, sizeof *s);
    if (s == NULL || (s->conns = calloc((size_t)cfg->slow_clients, sizeof *s->conns)) == NULL) {
        free(s);
        snprintf(err, err_len, "slow clients: out of memory");
        return -1;
    }
    s->cfg = cfg;
    s->count = cfg->slow_clients;
    s->first_pending = s->count;
    s->interval_ns = (uint64_t)(cfg->slow_interval_s * 1e9);
    s->probe.fd = -1;
    atomic_init(&s->holding, 0);
    s->res.count = s->count;
    s->res.interval_s = cfg->slow_interval_s;
    s->res.probed = !cfg->grpc;
    for (long i = 0; i < s->count; i++)
        s->conns[i] = (slow_conn_t){.fd = -1, .first = 1};
    if (slow_loop_init(s, err, err_len) < 0) {
        slow_free(s);
        return -1;
    }
    int e = pthread_create(&s->thread, NULL, slow_main, s);
    if (e != 0) {
        snprintf(err, err_len, "slow clients: pthread_create: %s", strerror(e));
        slow_free(s);
        return -1;
    }
    /* The first connects, waited for (bounded: a server that accepts
     * none still gets its measured load). */
    uint64_t deadline = clock_now_ns() + (uint64_t)LG_SLOW_START_TIMEOUT_MS * NS_PER_MS;
    struct pollfd ready = {.fd = s->ready_fd, .events = POLLIN};
    for (uint64_t now = clock_now_ns(); now < deadline; now = clock_now_ns()) {
        int rc = poll(&ready, 1, (int)((deadline - now + NS_PER_MS - 1) / NS_PER_MS));
        if (rc != 0 && !(rc < 0 && errno == EINTR))
            break;
    }
    s->res.connected_at_start = atomic_load(&s->holding);
    *out = s;
    return 0;
}

void lg_slow_clients_stop(lg_slow_clients_t *s, lg_slow_result_t *res)
{
    uint64_t one = 1;
    if (write(s->stop_fd, &one, sizeof one) != (ssize_t)sizeof one)
        log_error("write(eventfd): %s", strerror(errno));
    int e = pthread_join(s->thread, NULL);
    if (e != 0)
        log_error("slow clients: pthread_join: %s", strerror(e));
    *res = s->res;
    res->held_at_end = atomic_load(&s->holding);
    slow_probe_t *p = &s->probe;
    if (p->count > 0) {
        qsort(p->latency_ns, p->count, sizeof *p->latency_ns, cmp_u64);
        res->probe_p50_ms = ns_to_ms(p->latency_ns[lab_nearest_rank(p->count, 500) - 1]);
        res->probe_p99_ms = ns_to_ms(p->latency_ns[lab_nearest_rank(p->count, 990) - 1]);
        res->probe_max_ms = ns_to_ms(p->latency_ns[p->count - 1]);
    }
    slow_free(s);
}
