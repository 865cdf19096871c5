/* The connection is one end of a socketpair that slowapi adopts
 * (conn_open); the harness is the client at the other end. Each write is
 * followed by a few turns of the loop without waiting (UV_RUN_NOWAIT):
 * enough for libuv to read it, for slowapi to answer and for a deadline
 * of 0 s (an injected fault without delay) to fall due. Longer delays
 * never fall due: the connection is closed under them, which is a path of
 * its own (a client that leaves). */
#include "slowapi_driver.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "slowapi.h"

#define LOOP_TURNS 4
/* Turns for a closed connection's handles to close; more is a leak. */
#define CLOSE_TURNS_MAX 64
#define OUT_MAX (1024 * 1024)
#define FAULT_SEED 1

static slowapi_config_t config;
static server_t *server;
static char out_buf[OUT_MAX];
static size_t out_len;

static void die(const char *what)
{
    fprintf(stderr, "slowapi_driver: %s\n", what);
    abort();
}

void slowapi_driver_init(const char *program)
{
    /* Debug logging runs the log lines' formatting too (LOG_LEVEL wins). */
    setenv("LOG_LEVEL", "debug", 0);
    (void)log_init(program);
    /* Writing to a client that has closed must be EPIPE, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    config = (slowapi_config_t){
        .host = "127.0.0.1",
        .ports = 1,
        .backlog = 1,
        .ready_fd = -1,
        .workers = 1,
        .max_conns = 16,
        .calls_total = stats_counter_new(),
        .fault_seed = FAULT_SEED,
    };
    server = calloc(1, sizeof *server);
    if (config.calls_total == NULL || server == NULL || server_init(server, &config) < 0)
        die("cannot make the server");
}

/* Keep what slowapi wrote (the socket must not fill up). */
static void drain(int fd)
{
    for (;;) {
        char sink[16384];
        char *to = out_len < OUT_MAX ? out_buf + out_len : sink;
        size_t room = out_len < OUT_MAX ? OUT_MAX - out_len : sizeof sink;
        ssize_t n = recv(fd, to, room, MSG_DONTWAIT);
        if (n <= 0)
            return;
        if (to == out_buf + out_len)
            out_len += (size_t)n;
    }
}

static void turn(int client)
{
    for (int i = 0; i < LOOP_TURNS; i++) {
        (void)uv_run(&server->loop, UV_RUN_NOWAIT);
        drain(client);
    }
}

/* Write all of data, turning the loop while the socket is full. Returns
 * 0, or -1 once slowapi has closed its end. */
static int client_write(int client, const char *data, size_t len)
{
    size_t spins = 0;
    while (len > 0) {
        ssize_t n = send(client, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        /* slowapi stops reading at 64 KiB of pipelined bytes. */
        if (++spins > CLOSE_TURNS_MAX)
            return 0;
        turn(client);
    }
    turn(client);
    return 0;
}

void slowapi_driver_run(const char *prefix, size_t prefix_len, const uint8_t *data, size_t len,
                        size_t chunk, const char **out, size_t *out_len_p)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        die("socketpair failed");
    /* The same faults for the same input, whatever ran before. */
    server->fault_rng = FAULT_SEED * 0x9E3779B97F4A7C15ULL + 1;
    stats_reset(&server->stats);
    out_len = 0;
    if (conn_open(server, sv[0]) < 0)
        die("conn_open failed");
    int client = sv[1];
    int open = prefix_len == 0 || client_write(client, prefix, prefix_len) == 0;
    if (chunk == 0)
        chunk = len > 0 ? len : 1;
    for (size_t at = 0; open && at < len; at += chunk) {
        size_t n = len - at < chunk ? len - at : chunk;
        open = client_write(client, (const char *)data + at, n) == 0;
    }
    /* The client leaves: EOF, then whatever still holds the connection. */
    (void)shutdown(client, SHUT_WR);
    turn(client);
    conn_close_all(server);
    for (int i = 0; server->conn_count > 0; i++) {
        if (i == CLOSE_TURNS_MAX)
            die("a connection never closed");
        (void)uv_run(&server->loop, UV_RUN_NOWAIT);
    }
    drain(client);
    (void)close(client);
    if (server->delays.heap.len != 0)
        die("a deadline outlived its connection");
    if (server->h2_answered != NULL)
        die("an h2c session outlived its connection");
    *out = out_buf;
    *out_len_p = out_len;
}
