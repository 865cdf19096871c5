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
/* After an error answer, how long to read what the client still sends so
 * closing does not reset the connection before it reads the answer. */
#define LINGER_MS 200

static void set_timeouts(int fd, long timeout_ms)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        log_warn("setsockopt on client socket: %s", strerror(errno));
}

/* A client that hung up while its request waited in the queue (a load
 * generator's timeout, say) would still cost a whole fan-out: check first.
 * A half-closed client is gone too: HTTP clients do not half-close while
 * they wait for an answer. */
static int client_gone(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLRDHUP};
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void close_lingering(int fd)
{
    char sink[4096];
    if (shutdown(fd, SHUT_WR) == 0) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        while (poll(&pfd, 1, LINGER_MS) > 0 && recv(fd, sink, sizeof sink, 0) > 0)
            ;
    }
    close(fd);
}

static int send_response(int fd, const response_t *res)
{
    int rc = net_send_all(fd, res->buf, (size_t)res->len);
    if (rc < 0)
        log_debug("send: %s", strerror(-rc));
    return rc;
}

void blocking_conn_serve(int fd, fanout_client_t *fc, int keep_alive)
{
    static _Thread_local char buf[CONN_BUF_BYTES];
    static _Thread_local http_request_t req;
    static _Thread_local response_t res;
    size_t have = 0; /* unparsed bytes at the start of buf */
    set_timeouts(fd, server_config->client_timeout_ms);
    http_request_init(&req);

    for (;;) {
        size_t used = 0;
        http_req_status_t st = http_request_feed(&req, buf, have, &used);
        memmove(buf, buf + used, have - used);
        have -= used;
        if (st == HTTP_REQ_INCOMPLETE) {
            ssize_t n = recv(fd, buf + have, sizeof buf - have, 0);
            if (n > 0) {
                have += (size_t)n;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            int timed_out = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
            if (timed_out && req.header_bytes + req.raw_header_bytes > 0) {
                respond_client_timeout(&res);
                (void)send_response(fd, &res);
            }
            break; /* EOF, reset, or an idle keep-alive connection */
        }
        if (st != HTTP_REQ_DONE) {
            respond_rejected(&res, st, req.error);
            (void)send_response(fd, &res);
            close_lingering(fd);
            return;
        }
        int keep = keep_alive && req.keep_alive;
        route_t route = route_of(&req);
        if (route == ROUTE_IO) {
            if (client_gone(fd)) {
                log_debug("client left before its request was served");
                break;
            }
            fanout_result_t result;
            (void)fanout_client_run(fc, &result);
            respond_io(&res, &result, keep);
        } else {
            respond_now(&res, route, keep);
        }
        if (send_response(fd, &res) < 0 || !keep)
            break;
        http_request_reset(&req);
    }
    close(fd);
}
