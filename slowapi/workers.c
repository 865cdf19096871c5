/* Several slowapi processes on one port. Each holds its own connections,
 * so together they hold more than one process's open-file limit allows:
 * at c=2000 with fan-out 10, 20,000 waiting requests. The port is bound
 * here first (SO_REUSEPORT, not listening: it takes no connection) so
 * that port 0 works; each worker listens on it with a socket of its own
 * and the kernel spreads connections over them. Each worker keeps its own
 * GET /stats figures but one: calls_total, a counter main.c maps shared
 * before the fork, so that any worker's /stats counts every worker's
 * answers. */
#include "slowapi.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "net.h"

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

int workers_run(slowapi_config_t *config)
{
    pid_t pids[WORKERS_MAX] = {0};
    int n = config->workers, ready[2];
    char err[NET_ERR_LEN];
    int hold = net_listen_tcp(config->host, config->port, 0, 1, 0, err);
    if (hold < 0) {
        log_error("%s", err);
        return 1;
    }
    int port = net_local_port(hold);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGCHLD); /* a worker died: stop them all */
    if (port < 0 || pipe(ready) < 0 || sigprocmask(SIG_BLOCK, &stop, NULL) < 0) {
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
            if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                _exit(1);
            (void)sigprocmask(SIG_UNBLOCK, &stop, NULL);
            (void)close(hold);
            (void)close(ready[0]);
            if (config->ready_fd >= 0)
                (void)close(config->ready_fd);
            config->port = port;
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
    log_info("%d workers listening on port %d", n, port);
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
    (void)close(hold);
    return failed || sig == SIGCHLD ? 1 : 0;
}
