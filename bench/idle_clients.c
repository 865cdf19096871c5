/* Idle clients for bench/idle_memory.sh: COUNT connections to a server on
 * 127.0.0.1:PORT, each left open and idle. With a PATH, each connection
 * first sends GET PATH (HTTP/1.1, kept alive) and reads its answer, one
 * connection after the other, so the server holds one request at a time;
 * with "-" it only connects. Last, GET /healthz on a connection of its
 * own (closed after): once that is answered, the server has accepted every
 * earlier connection (the listen queue is first in, first out). Then it
 * prints "ready" and holds the connections until its stdin closes.
 *
 * usage: idle_clients PORT COUNT PATH|-
 * Exit 0, or 1 with the reason on stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "parse.h"

#define ANSWER_MAX 16384

static int die(const char *what, int err)
{
    fprintf(stderr, "idle_clients: %s: %s\n", what, strerror(err));
    return 1;
}

/* Read one answer with a Content-Length body; 0 when it is a 200. */
static int read_answer(int fd)
{
    char buf[ANSWER_MAX + 1];
    size_t used = 0;
    for (;;) {
        ssize_t n = recv(fd, buf + used, ANSWER_MAX - used, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? -EPIPE : -errno;
        used += (size_t)n;
        buf[used] = '\0';
        const char *end = strstr(buf, "\r\n\r\n");
        const char *cl = strcasestr(buf, "\r\nContent-Length:");
        if (end == NULL || cl == NULL || cl > end)
            continue;
        if ((size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10) <= used)
            return strncmp(buf + 8, " 200", 4) == 0 ? 0 : -EPROTO;
        if (used == ANSWER_MAX)
            return -ENOSPC;
    }
}

int main(int argc, char **argv)
{
    long port, count;
    if (argc != 4 || parse_long(argv[1], 1, 65535, &port) != 0 ||
        parse_long(argv[2], 1, 1000000, &count) != 0) {
        fprintf(stderr, "usage: idle_clients PORT COUNT PATH|-\n");
        return 2;
    }
    char req[512];
    int req_len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", argv[3]);
    if (req_len < 0 || (size_t)req_len >= sizeof req)
        return die("path", ENAMETOOLONG);
    int send_request = strcmp(argv[3], "-") != 0;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    const char healthz[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    for (long i = 0; i <= count; i++) {
        int last = i == count;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return die("socket", errno);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
            return die("connect", errno);
        if (!send_request && !last)
            continue;
        const char *r = last ? healthz : req;
        size_t len = last ? sizeof healthz - 1 : (size_t)req_len;
        if (send(fd, r, len, MSG_NOSIGNAL) != (ssize_t)len)
            return die("send", errno);
        int rc = read_answer(fd);
        if (rc < 0)
            return die("answer", -rc);
        if (last)
            (void)close(fd);
    }
    printf("ready\n");
    if (fflush(stdout) != 0)
        return die("stdout", errno);
    char sink[64];
    while (read(STDIN_FILENO, sink, sizeof sink) > 0)
        ;
    return 0;
}
