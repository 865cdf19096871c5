/* The upstream client's shared part: see upstream.h. */
#include "upstream.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define EPOLL_BATCH 256            /* events taken from our set per wake-up */
#define RESOLVE_AGAIN_AFTER_NS 1000000000ull /* at most once a second */
#define HOST_MAX 256
#define PATH_MAX_BYTES 512

typedef struct call_queue_s {
    upstream_call_t *head, *tail;
} call_queue_t;

typedef enum { ADDRESS_NONE, ADDRESS_RESOLVING, ADDRESS_KNOWN } address_state_t;

struct upstream_s {
    uv_loop_t *loop;
    const server_config_t *cfg;
    const upstream_transport_t *transport;
    void *transport_state;
    char host[HOST_MAX], port[12], authority[HOST_MAX + 16], path[PATH_MAX_BYTES];
    /* the address */
    address_state_t address_state;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    uint64_t resolved_ns;
    uv_getaddrinfo_t resolver;
    call_queue_t waiting;  /* calls waiting for the address */
    /* sockets */
    int epoll_fd;
    uv_poll_t epoll_poll;
    upstream_sock_t *dead; /* closed, to be freed after the batch */
    /* before the loop waits */
    uv_prepare_t before_wait;
    int want_flush;
    call_queue_t ending;   /* calls that failed inside start */
    /* closing */
    int closing;
    int open_handles;       /* and a resolution in flight when closing */
    void (*on_closed)(void *arg);
    void *on_closed_arg;
};

/* ---- call queues (a call is on at most one) ---- */

static void queue_push(call_queue_t *q, upstream_call_t *call)
{
    call->queue = q;
    call->queue_next = NULL;
    call->queue_prev = q->tail;
    if (q->tail != NULL)
        q->tail->queue_next = call;
    else
        q->head = call;
    q->tail = call;
}

static void queue_remove(upstream_call_t *call)
{
    call_queue_t *q = call->queue;
    if (call->queue_prev != NULL)
        call->queue_prev->queue_next = call->queue_next;
    else
        q->head = call->queue_next;
    if (call->queue_next != NULL)
        call->queue_next->queue_prev = call->queue_prev;
    else
        q->tail = call->queue_prev;
    call->queue = NULL;
}

static upstream_call_t *queue_pop(call_queue_t *q)
{
    upstream_call_t *call = q->head;
    if (call != NULL)
        queue_remove(call);
    return call;
}

/* ---- the URL ---- */

/* "http://host[:port][/path][?query]"; config.c checked the scheme, the
 * port and that nothing in it needs quoting. The client calls port +
 * port_offset. Returns 0 or -EINVAL. */
static int parse_url(upstream_t *up, const char *url, int port_offset)
{
    const char *auth = url + strlen("http://");
    size_t auth_len = strcspn(auth, "/?");
    const char *rest = auth + auth_len;
    if (auth_len == 0 || auth_len >= sizeof up->authority ||
        strlen(rest) + 2 > sizeof up->path)
        return -EINVAL;
    memcpy(up->authority, auth, auth_len);
    up->authority[auth_len] = '\0';
    snprintf(up->path, sizeof up->path, "%s%s", rest[0] == '/' ? "" : "/", rest);
    const char *host = up->authority, *host_end, *colon;
    if (host[0] == '[') { /* an IPv6 literal */
        host_end = strchr(host, ']');
        if (host_end == NULL)
            return -EINVAL;
        colon = host_end[1] == ':' ? host_end + 1 : NULL;
        host++;
    } else {
        colon = strchr(host, ':');
        host_end = colon != NULL ? colon : host + auth_len;
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0 || host_len >= sizeof up->host)
        return -EINVAL;
    memcpy(up->host, host, host_len);
    up->host[host_len] = '\0';
    const char *port = colon != NULL ? colon + 1 : "80";
    if (strlen(port) == 0 || strlen(port) >= sizeof up->port || strspn(port, "0123456789") != strlen(port))
        return -EINVAL;
    strcpy(up->port, port);
    if (port_offset > 0) {
        snprintf(up->port, sizeof up->port, "%d", atoi(port) + port_offset);
        const char *v6 = up->authority[0] == '[' ? "[" : "", *v6_end = v6[0] != '\0' ? "]" : "";
        snprintf(up->authority, sizeof up->authority, "%s%s%s:%s", v6, up->host, v6_end, up->port);
    }
    return 0;
}

/* ---- the address ---- */

static void release(upstream_t *up);

static void resolved_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    upstream_t *up = req->data;
    if (up->closing) {
        uv_freeaddrinfo(res);
        release(up);
        return;
    }
    up->address_state = ADDRESS_NONE;
    if (status == 0 && res != NULL && res->ai_addrlen <= sizeof up->addr) {
        memcpy(&up->addr, res->ai_addr, res->ai_addrlen);
        up->addr_len = res->ai_addrlen;
        up->address_state = ADDRESS_KNOWN;
        up->resolved_ns = clock_now_ns();
    } else {
        log_warn("resolving the upstream %s: %s", up->host,
                 status != 0 ? uv_strerror(status) : "no address");
    }
    uv_freeaddrinfo(res);
    upstream_call_t *call;
    while ((call = queue_pop(&up->waiting)) != NULL) {
        if (up->address_state == ADDRESS_KNOWN)
            up->transport->start(up, call);
        else
            upstream_call_end(call, 0, "cannot resolve the upstream's name", 0);
    }
}

static void resolve(upstream_t *up)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    up->resolver.data = up;
    int rc = uv_getaddrinfo(up->loop, &up->resolver, resolved_cb, up->host, up->port, &hints);
    if (rc != 0) {
        log_warn("resolving the upstream %s: %s", up->host, uv_strerror(rc));
        upstream_call_t *call;
        while ((call = queue_pop(&up->waiting)) != NULL)
            upstream_call_end_soon(up, call, "cannot resolve the upstream's name", -rc);
        return;
    }
    up->address_state = ADDRESS_RESOLVING;
}

void upstream_address_suspect(upstream_t *up)
{
    if (up->address_state == ADDRESS_KNOWN &&
        clock_now_ns() - up->resolved_ns >= RESOLVE_AGAIN_AFTER_NS)
        up->address_state = ADDRESS_NONE;
}

/* ---- sockets ---- */

int upstream_sock_connect(upstream_t *up, upstream_sock_t *sock)
{
    sock->up = up;
    sock->free_fn = NULL;
    sock->next_dead = NULL;
    sock->fd = socket(up->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sock->fd < 0)
        return -errno;
    int one = 1, err = 0;
    if (setsockopt(sock->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        (connect(sock->fd, (struct sockaddr *)&up->addr, up->addr_len) != 0 && errno != EINPROGRESS))
        err = -errno;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = sock};
    if (err == 0 && epoll_ctl(up->epoll_fd, EPOLL_CTL_ADD, sock->fd, &ev) != 0)
        err = -errno;
    if (err != 0) {
        (void)close(sock->fd);
        sock->fd = -1;
    }
    return err;
}

int upstream_sock_error(upstream_sock_t *sock)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(sock->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return -errno;
    return -err;
}

static void free_dead(upstream_t *up)
{
    while (up->dead != NULL) {
        upstream_sock_t *sock = up->dead;
        up->dead = sock->next_dead;
        sock->free_fn(sock);
    }
}

void upstream_sock_close(upstream_sock_t *sock, void (*free_fn)(upstream_sock_t *sock))
{
    upstream_t *up = sock->up;
    /* Closing drops the socket from our set (it is never duplicated); an
     * event already taken from the set finds fd -1 and is skipped. */
    if (sock->fd >= 0 && close(sock->fd) != 0)
        log_debug("close(upstream socket): %s", strerror(errno));
    sock->fd = -1;
    sock->free_fn = free_fn;
    sock->next_dead = up->dead;
    up->dead = sock;
    upstream_want_flush(up); /* frees it before the loop waits, at the latest */
}

static void epoll_ready_cb(uv_poll_t *poll, int status, int events)
{
    (void)events;
    upstream_t *up = poll->data;
    if (status < 0) {
        log_error("watching the upstream sockets: %s", uv_strerror(status));
        return;
    }
    struct epoll_event evs[EPOLL_BATCH];
    int n = epoll_wait(up->epoll_fd, evs, EPOLL_BATCH, 0);
    if (n < 0 && errno != EINTR)
        log_error("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        upstream_sock_t *sock = evs[i].data.ptr;
        if (sock->fd >= 0)
            sock->ready(sock, evs[i].events);
    }
    free_dead(up);
}

/* ---- before the loop waits ---- */

static void before_wait_cb(uv_prepare_t *prepare)
{
    upstream_t *up = prepare->data;
    upstream_call_t *call;
    while ((call = queue_pop(&up->ending)) != NULL)
        upstream_call_end(call, 0, call->error, call->error_errno);
    if (up->want_flush) {
        up->want_flush = 0;
        if (up->transport->flush != NULL)
            up->transport->flush(up);
    }
    free_dead(up);
    if (!up->want_flush && up->ending.head == NULL)
        (void)uv_prepare_stop(prepare);
}

void upstream_want_flush(upstream_t *up)
{
    up->want_flush = 1;
    (void)uv_prepare_start(&up->before_wait, before_wait_cb); /* cannot fail when initialised */
}

void upstream_call_end(upstream_call_t *call, int status, const char *error, int error_errno)
{
    call->status = status;
    call->error = error;
    call->error_errno = error_errno;
    call->conn = NULL;
    call->done(call);
}

void upstream_call_end_soon(upstream_t *up, upstream_call_t *call, const char *error,
                            int error_errno)
{
    call->error = error;
    call->error_errno = error_errno;
    call->conn = NULL;
    queue_push(&up->ending, call);
    (void)uv_prepare_start(&up->before_wait, before_wait_cb);
}

/* ---- calls ---- */

void upstream_start(upstream_t *up, upstream_call_t *call)
{
    call->status = 0;
    call->error = NULL;
    call->error_errno = 0;
    call->conn = NULL;
    call->queue = NULL;
    if (up->address_state == ADDRESS_KNOWN) {
        up->transport->start(up, call);
        return;
    }
    queue_push(&up->waiting, call);
    if (up->address_state == ADDRESS_NONE)
        resolve(up);
}

void upstream_cancel(upstream_t *up, upstream_call_t *call)
{
    if (call->queue != NULL)
        queue_remove(call); /* never reached the transport, or failed there */
    else
        up->transport->cancel(up, call);
}

/* ---- the client ---- */

void *upstream_transport_state(upstream_t *up) { return up->transport_state; }
void upstream_set_transport_state(upstream_t *up, void *state) { up->transport_state = state; }
const server_config_t *upstream_config(upstream_t *up) { return up->cfg; }
const char *upstream_path(upstream_t *up) { return up->path; }
const char *upstream_authority(upstream_t *up) { return up->authority; }

upstream_t *upstream_new(uv_loop_t *loop, const server_config_t *cfg, int port_offset)
{
    upstream_t *up = calloc(1, sizeof *up);
    if (up == NULL)
        return NULL;
    up->loop = loop;
    up->cfg = cfg;
    up->transport = cfg->upstream_http2 ? &upstream_h2 : &upstream_h1;
    up->epoll_fd = -1;
    if (parse_url(up, cfg->slow_api_url, port_offset) != 0) {
        log_error("cannot use the upstream URL %s", cfg->slow_api_url);
        goto fail;
    }
    up->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (up->epoll_fd < 0) {
        log_error("epoll_create1: %s", strerror(errno));
        goto fail;
    }
    int rc = up->transport->init(up);
    if (rc != 0) {
        log_error("the upstream client (%s): %s", up->transport->name, strerror(-rc));
        goto fail;
    }
    if ((rc = uv_poll_init(loop, &up->epoll_poll, up->epoll_fd)) != 0) {
        log_error("uv_poll_init: %s", uv_strerror(rc));
        up->transport->close(up);
        goto fail;
    }
    (void)uv_prepare_init(loop, &up->before_wait); /* cannot fail */
    up->epoll_poll.data = up->before_wait.data = up;
    up->open_handles = 2;
    if ((rc = uv_poll_start(&up->epoll_poll, UV_READABLE, epoll_ready_cb)) != 0) {
        log_error("uv_poll_start: %s", uv_strerror(rc));
        upstream_close(up, NULL, NULL);
        return NULL;
    }
    return up;
fail:
    if (up->epoll_fd >= 0)
        (void)close(up->epoll_fd);
    free(up);
    return NULL;
}

/* One of the handles (or the resolution) is done with up; the last frees it. */
static void release(upstream_t *up)
{
    if (--up->open_handles > 0)
        return;
    if (up->on_closed != NULL)
        up->on_closed(up->on_closed_arg);
    free(up);
}

static void handle_closed_cb(uv_handle_t *handle) { release(handle->data); }

void upstream_close(upstream_t *up, void (*on_closed)(void *arg), void *arg)
{
    up->on_closed = on_closed;
    up->on_closed_arg = arg;
    up->closing = 1;
    up->transport->close(up);
    free_dead(up);
    if (up->address_state == ADDRESS_RESOLVING) {
        up->open_handles++; /* its callback runs even when cancelled */
        (void)uv_cancel((uv_req_t *)&up->resolver);
    }
    /* uv_close unregisters the fd at once; the set can be closed now. */
    uv_close((uv_handle_t *)&up->epoll_poll, handle_closed_cb);
    uv_close((uv_handle_t *)&up->before_wait, handle_closed_cb);
    (void)close(up->epoll_fd);
}
