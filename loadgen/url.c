#include "url.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "parse.h"

#define URL_SCHEME "http://"
#define URL_DEFAULT_PORT 80

static int url_fail(char *err, size_t err_len, const char *text, const char *why)
{
    snprintf(err, err_len, "bad URL \"%s\": %s", text, why);
    return -EINVAL;
}

static int host_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

/* Anything printable but a blank can go in a request target; the rest
 * would break the request line. */
static int target_char_ok(char c) { return c > 0x20 && c < 0x7f && c != '#'; }

int lg_url_parse(const char *text, lg_url_t *url, char *err, size_t err_len)
{
    memset(url, 0, sizeof *url);
    size_t scheme_len = strlen(URL_SCHEME);
    if (strncasecmp(text, URL_SCHEME, scheme_len) != 0)
        return url_fail(err, err_len, text, "only http:// URLs are supported");
    const char *host = text + scheme_len;
    size_t host_len = strcspn(host, ":/?#");
    if (host_len == 0)
        return url_fail(err, err_len, text, "no host");
    if (host_len >= sizeof url->host)
        return url_fail(err, err_len, text, "host name too long");
    for (size_t i = 0; i < host_len; i++) {
        if (host[i] == '@')
            return url_fail(err, err_len, text, "user information is not supported");
        if (host[i] == '[')
            return url_fail(err, err_len, text, "IPv6 addresses are not supported");
        if (!host_char_ok(host[i]))
            return url_fail(err, err_len, text, "bad character in host");
    }
    memcpy(url->host, host, host_len);
    url->host[host_len] = '\0';

    const char *p = host + host_len;
    url->port = URL_DEFAULT_PORT;
    if (*p == ':') {
        char port[8];
        size_t port_len = strcspn(p + 1, "/?#");
        if (port_len == 0 || port_len >= sizeof port)
            return url_fail(err, err_len, text, "bad port");
        memcpy(port, p + 1, port_len);
        port[port_len] = '\0';
        long v;
        if (parse_long(port, 1, 65535, &v) < 0)
            return url_fail(err, err_len, text, "port must be 1..65535");
        url->port = (int)v;
        p += 1 + port_len;
    }
    if (*p == '#')
        return url_fail(err, err_len, text, "fragments are never sent; remove \"#...\"");
    /* "http://h?x" has an empty path: the target is "/?x". */
    size_t off = 0;
    if (*p != '/')
        url->target[off++] = '/';
    size_t rest = strlen(p);
    if (off + rest >= sizeof url->target)
        return url_fail(err, err_len, text, "path too long");
    for (size_t i = 0; i < rest; i++) {
        if (!target_char_ok(p[i]))
            return url_fail(err, err_len, text,
                            p[i] == '#' ? "fragments are never sent; remove \"#...\""
                                        : "blank or control character in path (percent-encode it)");
    }
    memcpy(url->target + off, p, rest + 1);
    snprintf(url->host_header, sizeof url->host_header, "%s:%d", url->host, url->port);
    return 0;
}

/* Errors that a name service gives while a name is not there yet. */
static int resolve_may_come(int rc)
{
    return rc == EAI_NONAME || rc == EAI_AGAIN || rc == EAI_FAIL
#ifdef EAI_NODATA
           || rc == EAI_NODATA
#endif
        ;
}

int lg_url_resolve_within(lg_url_t *url, double wait_s, char *err, size_t err_len)
{
    uint64_t deadline = clock_now_ns() + (uint64_t)(wait_s > 0 ? wait_s * 1e9 : 0);
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    for (;;) {
        struct addrinfo *res = NULL;
        int rc = getaddrinfo(url->host, NULL, &hints, &res);
        if (rc == 0) {
            memcpy(&url->addr, res->ai_addr, sizeof url->addr);
            url->addr.sin_port = htons((uint16_t)url->port);
            freeaddrinfo(res);
            return 0;
        }
        if (wait_s <= 0 || !resolve_may_come(rc) || clock_now_ns() >= deadline) {
            char within[64] = "";
            if (wait_s > 0)
                snprintf(within, sizeof within, " within %g s (--wait)", wait_s);
            snprintf(err, err_len, "cannot resolve %s%s: %s", url->host, within,
                     rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
            return -1;
        }
        /* A pause between attempts, bounded by the deadline above. */
        struct timespec pause = {0, (long)LG_HEALTH_BACKOFF_MS * 1000000L};
        (void)nanosleep(&pause, NULL);
    }
}

int lg_url_resolve(lg_url_t *url, char *err, size_t err_len)
{
    return lg_url_resolve_within(url, 0, err, err_len);
}

int lg_url_request(const lg_url_t *url, const char *target, int keepalive, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", target, url->host_header,
                     keepalive ? "" : "Connection: close\r\n");
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    return n;
}

void lg_url_workload(const lg_url_t *url, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = url->target; *p != '\0' && *p != '?' && n + 1 < cap; p++) {
        if (*p == '/') {
            /* Leading and repeated slashes vanish, inner ones become '-'. */
            if (n > 0 && out[n - 1] != '-' && p[1] != '\0' && p[1] != '?')
                out[n++] = '-';
            continue;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, cap, "root");
}
