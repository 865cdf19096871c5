#include "blocking_conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_request.h"
#include "log.h"
#include "net.h"
#include "routes.h"

/* Room for a whole header block plus pipelined bytes behind it. */
#define CONN_BUF_BYTES (HTTP_MAX_HEADER_BYTES + 8192)

static int send_response(const blocking_io_t *io, void *ctx, const response_t *res)
{
    int rc = io->send(ctx, res->buf, (size_t)res->len);
    if (rc < 0)
        log_debug("send: %s", strerror(-rc));
    return rc;
}

void blocking_conn_run(const blocking_io_t *io, void *ctx, int keep_alive)
{
    char buf[CONN_BUF_BYTES];
    http_request_t req;
    response_t res;
    size_t have = 0; /* unparsed bytes at the start of buf */
    http_request_init(&req);

    for (;;) {
        size_t used = 0;
        http_req_status_t st = http_request_feed(&req, buf, have, &used);
        memmove(buf, buf + used, have - used);
        have -= used;
        if (st == HTTP_REQ_INCOMPLETE) {
            ssize_t n = io->recv(ctx, buf + have, sizeof buf - have);
            if (n > 0) {
                have += (size_t)n;
                continue;
            }
            if (n == -ETIMEDOUT && req.header_bytes + req.raw_header_bytes > 0) {
                respond_client_timeout(&res);
                (void)send_response(io, ctx, &res);
            }
            break; /* EOF, reset, or an idle keep-alive connection */
        }
        if (st != HTTP_REQ_DONE) {
            respond_rejected(&res, st, req.error);
            (void)send_response(io, ctx, &res);
            io->close(ctx, 1);
            return;
        }
        route_t route = route_of(&req);
        fanout_result_t result;
        if (route == ROUTE_IO) {
            if (io->peer_gone(ctx)) {
                log_debug("client left before its request was served");
                break;
            }
            io->fanout(ctx, &result);
        }
        /* Decided after the work: a stop may have begun meanwhile. */
        int keep = keep_alive && req.keep_alive && io->may_keep(ctx);
        if (route == ROUTE_IO)
            respond_io(&res, &result, keep);
        else
            respond_now(&res, route, &req, keep);
        if (send_response(io, ctx, &res) < 0 || !keep)
            break;
        http_request_reset(&req);
    }
    io->close(ctx, 0);
}

/* ---- plain system calls on a blocking socket ---- */

typedef struct socket_ctx_s {
    int fd;
    fanout_client_t *fc;
} socket_ctx_t;

static ssize_t socket_recv(void *ctx, void *buf, size_t len)
{
    socket_ctx_t *s = ctx;
    for (;;) {
        ssize_t n = recv(s->fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -ETIMEDOUT; /* SO_RCVTIMEO */
        if (errno != EINTR)
            return -errno;
    }
}

static int socket_send(void *ctx, const void *buf, size_t len)
{
    return net_send_all(((socket_ctx_t *)ctx)->fd, buf, len);
}

static int socket_peer_gone(void *ctx)
{
    return net_peer_gone(((socket_ctx_t *)ctx)->fd);
}

static void socket_fanout(void *ctx, fanout_result_t *res)
{
    (void)fanout_client_run(((socket_ctx_t *)ctx)->fc, res);
}

static int socket_may_keep(void *ctx)
{
    (void)ctx;
    return !server_stopping;
}

static void socket_close(void *ctx, int linger)
{
    socket_ctx_t *s = ctx;
    char sink[4096];
    if (linger && shutdown(s->fd, SHUT_WR) == 0) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        while (poll(&pfd, 1, CONN_LINGER_MS) > 0 && recv(s->fd, sink, sizeof sink, 0) > 0)
            ;
    }
    (void)close(s->fd);
}

static const blocking_io_t socket_io = {
    .recv = socket_recv,
    .send = socket_send,
    .peer_gone = socket_peer_gone,
    .fanout = socket_fanout,
    .may_keep = socket_may_keep,
    .close = socket_close,
};

static void set_timeouts(int fd, long timeout_ms)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        log_warn("setsockopt on client socket: %s", strerror(errno));
}

void blocking_conn_serve(int fd, fanout_client_t *fc, int keep_alive)
{
    socket_ctx_t ctx = {.fd = fd, .fc = fc};
    set_timeouts(fd, server_config->client_timeout_ms);
    blocking_conn_run(&socket_io, &ctx, keep_alive);
}
