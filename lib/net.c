#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(char *err, const char *call, int saved_errno, int fd)
{
    if (err != NULL)
        snprintf(err, NET_ERR_LEN, "%s: %s", call, strerror(saved_errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

int net_listen_tcp(const char *host, int port, int backlog, int reuseport, int nonblock,
                   char *err)
{
    char call[128];
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (host != NULL && inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        snprintf(err, NET_ERR_LEN, "listen address %s: not an IPv4 address", host);
        return -1;
    }
    int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);
    int fd = socket(AF_INET, type, 0);
    if (fd < 0)
        return fail(err, "socket(AF_INET, SOCK_STREAM)", errno, -1);
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        return fail(err, "setsockopt(SO_REUSEADDR)", errno, fd);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        return fail(err, "setsockopt(SO_REUSEPORT)", errno, fd);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        snprintf(call, sizeof call, "bind(%s:%d)", host ? host : "0.0.0.0", port);
        return fail(err, call, errno, fd);
    }
    if (backlog > 0 && listen(fd, backlog) < 0) {
        snprintf(call, sizeof call, "listen(backlog=%d)", backlog);
        return fail(err, call, errno, fd);
    }
    return fd;
}

int net_local_port(int fd)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
        return -1;
    return ntohs(addr.sin_port);
}

int net_send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int net_ready_notify(int fd, int port)
{
    if (fd < 0)
        return 0;
    char line[16];
    int n = snprintf(line, sizeof line, "%d\n", port);
    int rc = 0;
    ssize_t w;
    do
        w = write(fd, line, (size_t)n);
    while (w < 0 && errno == EINTR);
    if (w != n)
        rc = w < 0 ? -errno : -EIO;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

int net_peer_gone(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLRDHUP};
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

int net_listen_queue_length(int listen_fd)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    if (getsockopt(listen_fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0 ||
        info.tcpi_state != TCP_LISTEN)
        return -1;
    return (int)info.tcpi_unacked;
}
