#include "health.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grpc_client.h"
#include "llhttp.h"
#include "url.h"

#define HEALTH_PATH "/healthz"

typedef struct health_ctx {
    char *body;
    size_t cap;
    size_t len;
    int done;
} health_ctx_t;

static int health_on_body(llhttp_t *p, const char *at, size_t len)
{
    health_ctx_t *h = p->data;
    size_t room = h->cap - 1 - h->len;
    size_t n = len < room ? len : room;
    memcpy(h->body + h->len, at, n);
    h->len += n;
    h->body[h->len] = '\0';
    return 0;
}

static int health_on_complete(llhttp_t *p)
{
    health_ctx_t *h = p->data;
    h->done = 1;
    return HPE_PAUSED;
}

static const llhttp_settings_t health_settings = {
    .on_body = health_on_body,
    .on_message_complete = health_on_complete,
};

/* Wait for events on fd until deadline_ns. Returns 0 or -errno. */
static int health_poll(int fd, short events, uint64_t deadline_ns)
{
    for (;;) {
        uint64_t now = clock_now_ns();
        if (now >= deadline_ns)
            return -ETIMEDOUT;
        uint64_t ms = (deadline_ns - now + NS_PER_MS - 1) / NS_PER_MS;
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
        if (rc < 0 && errno != EINTR)
            return -errno;
        if (rc > 0)
            return 0;
    }
}

static int health_fail(int fd, int rc, char *err, size_t err_len, const char *what)
{
    snprintf(err, err_len, "%s: %s", what, strerror(-rc));
    if (fd >= 0)
        (void)close(fd); /* a socket we only read from: nothing to flush */
    return rc;
}

int lg_health_http_get(const lg_url_t *url, const char *target, int timeout_ms, int *status,
                    char *body, size_t cap, char *err, size_t err_len)
{
    uint64_t deadline = clock_now_ns() + (uint64_t)timeout_ms * NS_PER_MS;
    char req[LG_REQUEST_MAX];
    int req_len = lg_url_request(url, target, 0, req, sizeof req);
    if (req_len < 0)
        return health_fail(-1, req_len, err, err_len, "request");
    body[0] = '\0';

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return health_fail(-1, -errno, err, err_len, "socket");
    int rc;
    if (connect(fd, (const struct sockaddr *)&url->addr, sizeof url->addr) < 0) {
        if (errno != EINPROGRESS && errno != EINTR)
            return health_fail(fd, -errno, err, err_len, "connect");
        if ((rc = health_poll(fd, POLLOUT, deadline)) < 0)
            return health_fail(fd, rc, err, err_len, "connect");
        int so_err = 0;
        socklen_t len = sizeof so_err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_err, &len) < 0)
            so_err = errno;
        if (so_err != 0)
            return health_fail(fd, -so_err, err, err_len, "connect");
    }
    for (size_t off = 0; off < (size_t)req_len;) {
        ssize_t n = send(fd, req + off, (size_t)req_len - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return health_fail(fd, -errno, err, err_len, "send");
            if ((rc = health_poll(fd, POLLOUT, deadline)) < 0)
                return health_fail(fd, rc, err, err_len, "send");
            continue;
        }
        off += (size_t)n;
    }

    health_ctx_t ctx = {.body = body, .cap = cap};
    llhttp_t parser;
    llhttp_init(&parser, HTTP_RESPONSE, &health_settings);
    parser.data = &ctx;
    char buf[4096];
    int first = 1, not_http = 0; /* the answer does not start as HTTP/1.x does */
    while (!ctx.done) {
        if ((rc = health_poll(fd, POLLIN, deadline)) < 0)
            return health_fail(fd, rc, err, err_len, "recv");
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return health_fail(fd, -errno, err, err_len, "recv");
        }
        if (first && n > 0)
            not_http = buf[0] != 'H';
        first = 0;
        llhttp_errno_t perr = n == 0 ? llhttp_finish(&parser) : llhttp_execute(&parser, buf, (size_t)n);
        if (ctx.done)
            break;
        if (not_http) {
            /* Another protocol will not turn into HTTP/1.1 by waiting. */
            snprintf(err, err_len, "GET %s: the answer is not HTTP/1.x (a gRPC server? "
                     "then --grpc)", target);
            (void)close(fd);
            return -EPROTONOSUPPORT;
        }
        if (perr != HPE_OK || n == 0) {
            snprintf(err, err_len, "bad response to GET %s: %s", target,
                     n == 0 ? "connection closed early" : llhttp_get_error_reason(&parser));
            (void)close(fd);
            return -EPROTO;
        }
    }
    *status = llhttp_get_status_code(&parser);
    if (close(fd) < 0)
        return health_fail(-1, -errno, err, err_len, "close");
    return 0;
}

int lg_health_get(const lg_url_t *url, int timeout_ms, int *status, char *body, size_t cap,
               char *err, size_t err_len)
{
    return lg_health_http_get(url, HEALTH_PATH, timeout_ms, status, body, cap, err, err_len);
}

int lg_health_wait(const lg_url_t *url, double wait_s, char *body, size_t cap, char *err,
                size_t err_len)
{
    uint64_t deadline = clock_now_ns() + (uint64_t)(wait_s * 1e9);
    snprintf(err, err_len, "no attempt finished within %g s", wait_s);
    for (;;) {
        uint64_t now = clock_now_ns();
        uint64_t left_ms = now < deadline ? (deadline - now) / NS_PER_MS : 0;
        int attempt_ms = left_ms < LG_HEALTH_TIMEOUT_MS ? (int)left_ms : LG_HEALTH_TIMEOUT_MS;
        int status = 0;
        int rc = attempt_ms > 0 ? lg_health_get(url, attempt_ms, &status, body, cap, err, err_len)
                                : -ETIMEDOUT;
        if (rc == -EPROTONOSUPPORT)
            return rc;
        if (rc == 0) {
            if (status == 200)
                return 0;
            snprintf(err, err_len, "GET %s answered %d", HEALTH_PATH, status);
        }
        now = clock_now_ns();
        if (now >= deadline)
            return -ETIMEDOUT;
        /* A short pause between attempts (a refused connect returns at
         * once); this is a retry interval, not a synchronisation. */
        uint64_t pause_ms = (deadline - now) / NS_PER_MS;
        if (pause_ms > LG_HEALTH_BACKOFF_MS)
            pause_ms = LG_HEALTH_BACKOFF_MS;
        if (poll(NULL, 0, (int)pause_ms) < 0 && errno != EINTR)
            return -errno;
    }
}

json_t *lg_health_server_info(const char *body)
{
    json_t *info = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    if (info == NULL)
        return NULL;
    if (json_is_object(info) &&
        (json_object_get(info, "variant") != NULL || json_object_get(info, "capacity") != NULL ||
         json_object_get(info, "model") != NULL))
        return info;
    json_decref(info);
    return NULL;
}

/* --grpc: the health check for --wait, bench.Bench/Describe for the
 * description. */
static int health_describe_grpc(const lg_config_t *cfg, json_t **server, char *err,
                                size_t err_len)
{
    static char body[LG_HEALTH_BODY_MAX];
    char why[LG_ERR_MAX];
    if (cfg->wait_s > 0 && lg_grpc_client_wait(&cfg->url, cfg->wait_s, why, sizeof why) < 0) {
        snprintf(err, err_len, "%s not healthy after %g s; last attempt: %s", cfg->url_text,
                 cfg->wait_s, why);
        return -1;
    }
    if (lg_grpc_client_describe(&cfg->url, LG_HEALTH_TIMEOUT_MS, body, sizeof body, why,
                             sizeof why) < 0) {
        snprintf(err, err_len, "%s (the report has no server description)", why);
        return 0;
    }
    *server = lg_health_server_info(body);
    return 0;
}

int lg_health_upstream(const lg_config_t *cfg, char *cpu_model, size_t cap, char *err,
                       size_t err_len)
{
    static char body[LG_HEALTH_BODY_MAX];
    char why[LG_ERR_MAX];
    int status = 200;
    cpu_model[0] = '\0';
    if (cfg->wait_s > 0) {
        if (lg_health_wait(&cfg->upstream, cfg->wait_s, body, sizeof body, why, sizeof why) < 0) {
            snprintf(err, err_len, "--upstream %s not healthy after %.3g s; last attempt: %s",
                     cfg->upstream_text, cfg->wait_s, why);
            return -1;
        }
    } else if (lg_health_get(&cfg->upstream, LG_HEALTH_TIMEOUT_MS, &status, body, sizeof body, why,
                             sizeof why) < 0 ||
               status != 200) {
        return 0;
    }
    json_t *health = json_loads(body, 0, NULL);
    const char *model = json_string_value(json_object_get(health, "cpu_model"));
    if (model != NULL)
        snprintf(cpu_model, cap, "%s", model);
    json_decref(health);
    return 0;
}

int lg_health_describe(const lg_config_t *cfg, json_t **server, char *err, size_t err_len)
{
    static char body[LG_HEALTH_BODY_MAX];
    char why[LG_ERR_MAX];
    *server = NULL;
    err[0] = '\0';
    if (cfg->grpc)
        return health_describe_grpc(cfg, server, err, err_len);
    if (cfg->wait_s > 0) {
        int rc = lg_health_wait(&cfg->url, cfg->wait_s, body, sizeof body, why, sizeof why);
        if (rc == -EPROTONOSUPPORT) {
            snprintf(err, err_len, "%s: %s", cfg->url_text, why);
            return -1;
        }
        if (rc < 0) {
            snprintf(err, err_len, "%s not healthy after %g s; last attempt: %s", cfg->url_text,
                     cfg->wait_s, why);
            return -1;
        }
        *server = lg_health_server_info(body);
        return 0;
    }
    int status = 0;
    if (lg_health_get(&cfg->url, LG_HEALTH_TIMEOUT_MS, &status, body, sizeof body, why,
                   sizeof why) < 0) {
        snprintf(err, err_len, "GET /healthz: %s (the report has no server description)", why);
        return 0;
    }
    *server = status == 200 ? lg_health_server_info(body) : NULL;
    return 0;
}
