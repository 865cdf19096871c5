/* Start-up shared by every variant: limits, listening, readiness, signals. */
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_model.h"
#include "log.h"
#include "net.h"
#include "process.h"

volatile sig_atomic_t server_stopping;

/* A server at concurrency c with fan-out f holds about (f + 1) * c sockets. */
void server_raise_open_file_limit(void)
{
    rlim_t limit;
    int rc = process_raise_nofile(&limit);
    if (rc < 0)
        log_warn("raising the open-file limit: %s (it stays %llu)", strerror(-rc),
                 (unsigned long long)limit);
    log_debug("open-file limit %llu", (unsigned long long)limit);
}

int server_open_socket(const server_config_t *cfg, int port, int backlog, int reuseport,
                       int nonblock)
{
    char err[NET_ERR_LEN];
    server_raise_open_file_limit();
    int fd = net_listen_tcp(cfg->host, port, backlog, reuseport, nonblock, err);
    if (fd < 0) {
        log_error("cannot listen: %s", err);
        exit(1);
    }
    return fd;
}

void server_announce(const server_config_t *cfg, int port)
{
    log_info("%s listening on %s:%d (fanout %d to %s)", cfg->name, cfg->host, port,
             cfg->fanout, cfg->slow_api_url);
    int rc = net_ready_notify(cfg->ready_fd, port);
    if (rc < 0)
        log_warn("ready fd %d: %s", cfg->ready_fd, strerror(-rc));
}

int server_listen(const server_config_t *cfg, int reuseport, int nonblock)
{
    int fd = server_open_socket(cfg, cfg->port, cfg->backlog, reuseport, nonblock);
    server_announce(cfg, net_local_port(fd));
    return fd;
}

sigset_t server_stop_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return set;
}

sigset_t server_block_stop_signals(void)
{
    sigset_t set = server_stop_signals();
    int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        log_error("blocking the stop signals: %s", strerror(rc ? rc : errno));
        exit(1);
    }
    return set;
}

int server_wait_stop_signal(const sigset_t *set)
{
    int sig;
    while (sigwait(set, &sig) != 0)
        ;
    log_info("%s: stopping", strsignal(sig));
    return sig;
}

void server_unblock_stop_signals(void)
{
    sigset_t set = server_stop_signals();
    int rc = pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    if (rc != 0) {
        log_error("unblocking the stop signals: %s", strerror(rc));
        exit(1);
    }
}

static void on_stop_signal(int sig)
{
    (void)sig;
    server_stopping = 1;
}

void server_install_stop_handlers(void)
{
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a blocking accept() must return EINTR to see the stop. */
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0) {
        log_error("sigaction: %s", strerror(errno));
        exit(1);
    }
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        log_error("signal(SIGPIPE): %s", strerror(errno));
        exit(1);
    }
}

int server_describe_json(char *buf, size_t cap)
{
    const server_config_t *c = server_config;
    char model[128];
    (void)cpu_model(model, sizeof model);
    int n = snprintf(buf, cap,
                     "{\"status\":\"ok\",\"variant\":\"%s\",\"model\":\"%s\",\"capacity\":%d,"
                     "\"keep_alive\":%s,\"threads\":%d,\"workers\":%d,\"accept\":\"%s\","
                     "\"transport\":\"%s\",\"fanout\":%d,\"slow_api_url\":\"%s\","
                     "\"slow_api_ports\":%d,\"upstream_http\":\"%s\",\"upstream_timeout_ms\":%ld,"
                     "\"client_timeout_ms\":%ld,\"cpu_model\":\"%s\",\"pid\":%d}",
                     c->name, server_variant->model, server_capacity,
                     server_variant->keep_alive ? "true" : "false", c->threads, c->workers,
                     c->accept_mode == ACCEPT_REUSEPORT ? "reuseport" : "shared",
                     server_variant->settings & SETTINGS_HTTP ? "http" : "grpc", c->fanout,
                     c->slow_api_url, c->slow_api_ports, c->upstream_http2 ? "2" : "1.1",
                     c->upstream_timeout_ms,
                     server_variant->settings & SETTINGS_HTTP ? c->client_timeout_ms : 0L,
                     model, (int)getpid());
    return n < 0 || (size_t)n >= cap ? -1 : n;
}
