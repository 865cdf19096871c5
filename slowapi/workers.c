/* Several slowapi processes on one port, or on a few consecutive ports.
 * Each holds its own connections, so together they hold more than one
 * process's open-file limit allows: at c=2000 with fan-out 10, 20,000
 * waiting requests. The ports are bound here first (SO_REUSEPORT, not
 * listening: such a socket takes no connection) so that port 0 works;
 * worker i listens on port i mod PORTS with a socket of its own and the
 * kernel spreads each port's connections over its workers.
 *
 * Why more than one port: a client has one ephemeral port range (28,232
 * ports by default) per destination address and port, and a server at
 * c=5,000 over HTTP/1.1 keeps 50,000 connections to slowapi. Its fan-out
 * spreads the calls over the ports (SLOW_API_PORTS of the servers).
 *
 * Each worker keeps its own GET /stats figures but one: calls_total, a
 * counter main.c maps shared before the fork, so that any worker's /stats
 * counts every worker's answers. */
#include "slowapi.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "process.h"

#define WORKERS_MAX 64

static void stop_all(const pid_t *pids, int n, int sig)
{
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            (void)kill(pids[i], sig);
}

/* Reap every worker; returns 0 when all exited 0. */
static int reap_all(pid_t *pids, int n)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int status;
        if (pids[i] <= 0)
            continue;
        while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
            ;
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        pids[i] = 0;
    }
    return failed;
}

/* Tries for a run of free consecutive ports after port 0's first pick. */
#define PORT_RUN_TRIES 32

static void close_all(const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        (void)close(fds[i]);
}

/* Bind, without listening, one socket to each port of the run
 * config->port .. + config->ports - 1, into holds. Port 0: the kernel
 * picks the first port and the others follow it; when one of them is
 * taken the run starts again from another pick. Returns the first port,
 * or -1 (logged). */
static int hold_ports(const slowapi_config_t *config, int *holds)
{
    char err[NET_ERR_LEN];
    int tries = config->port == 0 ? PORT_RUN_TRIES : 1;
    for (int t = 0; t < tries; t++) {
        int first = config->port, n = 0;
        while (n < config->ports) {
            int port = n == 0 ? first : first + n;
            if (port > 65535) {
                snprintf(err, sizeof err, "ports %d-%d: past 65535", first, first + config->ports - 1);
                break;
            }
            holds[n] = net_listen_tcp(config->host, port, 0, 1, 0, err);
            if (holds[n] < 0)
                break;
            if (n == 0 && (first = net_local_port(holds[0])) < 0) {
                snprintf(err, sizeof err, "getsockname: %s", strerror(errno));
                (void)close(holds[0]);
                break;
            }
            n++;
        }
        if (n == config->ports)
            return first;
        close_all(holds, n);
    }
    log_error("%s", err);
    return -1;
}

int workers_run(slowapi_config_t *config)
{
    pid_t pids[WORKERS_MAX] = {0};
    int n = config->workers, ready[2], holds[SLOWAPI_PORTS_MAX];
    int port = hold_ports(config, holds);
    if (port < 0)
        return 1;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGCHLD); /* a worker died: stop them all */
    if (pipe(ready) < 0 || sigprocmask(SIG_BLOCK, &stop, NULL) < 0) {
        log_error("workers: set-up: %s", strerror(errno));
        return 1;
    }
    pid_t parent = getpid();
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            log_error("fork: %s", strerror(errno));
            stop_all(pids, i, SIGTERM);
            (void)reap_all(pids, i);
            return 1;
        }
        if (pids[i] == 0) {
            if (process_die_with_parent(parent, SIGTERM) < 0)
                _exit(1); /* the parent is gone already */
            (void)sigprocmask(SIG_UNBLOCK, &stop, NULL);
            close_all(holds, config->ports);
            (void)close(ready[0]);
            if (config->ready_fd >= 0)
                (void)close(config->ready_fd);
            config->port = port + i % config->ports;
            config->fault_seed += (uint64_t)i; /* each its own draws, still repeatable */
            config->reuseport = 1;
            config->ready_fd = ready[1];
            exit(server_run(config));
        }
    }
    (void)close(ready[1]);
    /* Each worker writes its port and a newline once it listens; EOF
     * before all have means one died starting. */
    FILE *in = fdopen(ready[0], "r");
    int up = 0, got;
    while (in != NULL && up < n && fscanf(in, "%d", &got) == 1)
        up++;
    if (in != NULL)
        (void)fclose(in);
    if (up < n) {
        log_error("only %d of %d workers started", up, n);
        stop_all(pids, n, SIGTERM);
        (void)reap_all(pids, n);
        return 1;
    }
    if (config->ports == 1)
        log_info("%d workers listening on port %d", n, port);
    else
        log_info("%d workers listening on ports %d-%d", n, port, port + config->ports - 1);
    int rc = net_ready_notify(config->ready_fd, port);
    if (rc < 0)
        log_warn("ready fd %d: %s", config->ready_fd, strerror(-rc));

    int sig;
    while (sigwait(&stop, &sig) != 0)
        ;
    if (sig == SIGCHLD)
        log_error("a worker died: stopping the others");
    stop_all(pids, n, SIGTERM);
    int failed = reap_all(pids, n);
    close_all(holds, config->ports);
    return failed || sig == SIGCHLD ? 1 : 0;
}
