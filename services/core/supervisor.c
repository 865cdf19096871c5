/* The master waits on one signalfd (SIGCHLD, SIGTERM, SIGINT) and on a
 * pipe through which each worker says it is ready; nothing else runs in
 * it, so it cannot be blocked by a request. Workers get SIGTERM through
 * PR_SET_PDEATHSIG if the master itself dies. */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "net.h"
#include "process.h"

/* A worker that dies this soon after it started is restarted only after
 * this long, so a worker that cannot run does not become a fork loop. */
#define RESTART_BACKOFF_MS 1000
/* Past the workers' own grace period, the master kills what is left. */
#define KILL_MARGIN_MS 1000

typedef struct worker_slot_s {
    pid_t pid;             /* 0: not running */
    uint64_t started_ns;
    uint64_t restart_at_ns; /* 0: no restart pending */
} worker_slot_t;

typedef struct master_s {
    const server_config_t *cfg;
    supervisor_worker_fn worker;
    int nonblock;
    int port;
    int listen_fd;   /* shared: the workers' socket; reuseport: binds the port */
    int signal_fd;
    int ready_rd, ready_wr;
    int announced;   /* every first worker reported ready */
    int ready_count;
    int stopping;
    uint64_t kill_at_ns;
    worker_slot_t *slot;
} master_t;

static int worker_ready_fd = -1; /* in a worker: the write end */

void supervisor_worker_ready(void)
{
    if (worker_ready_fd < 0)
        return;
    char byte = 1;
    if (write(worker_ready_fd, &byte, 1) != 1)
        log_warn("telling the master we are ready: %s", strerror(errno));
    (void)close(worker_ready_fd);
    worker_ready_fd = -1;
}

/* In the child: its socket, its signals, then the worker's whole life. */
static void run_worker(master_t *m, int index, pid_t master_pid)
{
    if (process_die_with_parent(master_pid, SIGTERM) < 0)
        _exit(1); /* the master is gone already */
    (void)close(m->signal_fd);
    (void)close(m->ready_rd);
    worker_ready_fd = m->ready_wr;
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    (void)pthread_sigmask(SIG_UNBLOCK, &chld, NULL); /* TERM and INT stay blocked */
    int fd = m->listen_fd;
    if (m->cfg->accept_mode == ACCEPT_REUSEPORT) {
        (void)close(m->listen_fd);
        fd = server_open_socket(m->cfg, m->port, m->cfg->backlog, 1, m->nonblock);
    }
    exit(m->worker(fd, index));
}

static int spawn(master_t *m, int index)
{
    pid_t master_pid = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        log_error("fork for worker %d: %s", index, strerror(errno));
        return -1;
    }
    if (pid == 0)
        run_worker(m, index, master_pid);
    m->slot[index] = (worker_slot_t){.pid = pid, .started_ns = clock_now_ns()};
    log_info("worker %d started (pid %d)", index, (int)pid);
    return 0;
}

static int live_workers(const master_t *m)
{
    int n = 0;
    for (int i = 0; i < m->cfg->workers; i++)
        n += m->slot[i].pid != 0;
    return n;
}

static void signal_workers(const master_t *m, int sig)
{
    for (int i = 0; i < m->cfg->workers; i++)
        if (m->slot[i].pid != 0)
            (void)kill(m->slot[i].pid, sig);
}

static void begin_stop(master_t *m, const char *why)
{
    if (m->stopping)
        return;
    log_info("%s: stopping the workers (grace period %ld ms)", why, m->cfg->grace_ms);
    m->stopping = 1;
    m->kill_at_ns = clock_now_ns() + (uint64_t)(m->cfg->grace_ms + KILL_MARGIN_MS) * NS_PER_MS;
    signal_workers(m, SIGTERM);
}

/* Returns -1 when a worker died before the server was ready: it cannot
 * start, and restarting it would hide that. */
static int reap(master_t *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int i = 0;
        while (i < m->cfg->workers && m->slot[i].pid != pid)
            i++;
        if (i == m->cfg->workers)
            continue;
        m->slot[i].pid = 0;
        if (WIFSIGNALED(status))
            log_warn("worker %d (pid %d) killed by %s", i, (int)pid, strsignal(WTERMSIG(status)));
        else if (WEXITSTATUS(status) != 0 || !m->stopping)
            log_warn("worker %d (pid %d) exited with status %d", i, (int)pid, WEXITSTATUS(status));
        if (m->stopping)
            continue;
        if (!m->announced) {
            log_error("worker %d died before the server was ready", i);
            return -1;
        }
        uint64_t now = clock_now_ns();
        uint64_t backoff_ns = (uint64_t)RESTART_BACKOFF_MS * NS_PER_MS;
        m->slot[i].restart_at_ns = now - m->slot[i].started_ns < backoff_ns ? now + backoff_ns : now;
    }
    return 0;
}

static void on_signal(master_t *m)
{
    struct signalfd_siginfo si;
    while (read(m->signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD)
            continue; /* reaped below, every turn */
        begin_stop(m, strsignal((int)si.ssi_signo));
    }
}

static void on_ready(master_t *m)
{
    char bytes[64];
    ssize_t n = read(m->ready_rd, bytes, sizeof bytes);
    if (n <= 0 || m->announced)
        return;
    m->ready_count += (int)n;
    if (m->ready_count >= m->cfg->workers) {
        m->announced = 1;
        log_info("%d workers x %d threads ready, accept %s", m->cfg->workers, m->cfg->threads,
                 m->cfg->accept_mode == ACCEPT_REUSEPORT ? "reuseport" : "shared");
        server_announce(m->cfg, m->port);
    }
}

/* How long poll may sleep: until the next restart or the kill deadline. */
static int next_timeout_ms(const master_t *m)
{
    uint64_t now = clock_now_ns(), next = 0;
    for (int i = 0; i < m->cfg->workers; i++)
        if (m->slot[i].restart_at_ns != 0 && (next == 0 || m->slot[i].restart_at_ns < next))
            next = m->slot[i].restart_at_ns;
    if (m->stopping)
        next = m->kill_at_ns == UINT64_MAX ? 0 : m->kill_at_ns; /* killed: wait for SIGCHLD */
    if (next == 0)
        return -1;
    return next <= now ? 0 : (int)((next - now) / NS_PER_MS) + 1;
}

static void restart_due(master_t *m)
{
    uint64_t now = clock_now_ns();
    for (int i = 0; i < m->cfg->workers; i++) {
        worker_slot_t *s = &m->slot[i];
        if (s->restart_at_ns == 0 || s->restart_at_ns > now || m->stopping)
            continue;
        s->restart_at_ns = 0;
        log_info("restarting worker %d", i);
        if (spawn(m, i) < 0)
            s->restart_at_ns = now + (uint64_t)RESTART_BACKOFF_MS * NS_PER_MS;
    }
}

static int open_sockets(master_t *m)
{
    const server_config_t *cfg = m->cfg;
    if (cfg->accept_mode == ACCEPT_SHARED)
        m->listen_fd = server_open_socket(cfg, cfg->port, cfg->backlog, 0, m->nonblock);
    else /* bound, not listening: holds the port, takes no connection */
        m->listen_fd = server_open_socket(cfg, cfg->port, 0, 1, 0);
    m->port = net_local_port(m->listen_fd);
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0) {
        log_error("pipe2: %s", strerror(errno));
        return -1;
    }
    m->ready_rd = pipe_fds[0];
    m->ready_wr = pipe_fds[1];
    return 0;
}

int supervisor_run(const server_config_t *cfg, int nonblock, supervisor_worker_fn worker)
{
    master_t m = {.cfg = cfg, .worker = worker, .nonblock = nonblock};
    m.slot = calloc((size_t)cfg->workers, sizeof *m.slot);
    sigset_t sigs = server_stop_signals();
    sigaddset(&sigs, SIGCHLD);
    if (m.slot == NULL || signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
        pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0 ||
        (m.signal_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
        log_error("master set-up: %s", strerror(errno));
        return 1;
    }
    if (open_sockets(&m) < 0)
        return 1;
    int status = 0;
    for (int i = 0; i < cfg->workers && status == 0; i++)
        if (spawn(&m, i) < 0)
            status = 1;
    if (status != 0)
        begin_stop(&m, "a worker could not start");

    while (live_workers(&m) > 0 || (!m.stopping && status == 0)) {
        struct pollfd pfd[2] = {{.fd = m.signal_fd, .events = POLLIN},
                                {.fd = m.ready_rd, .events = POLLIN}};
        int n = poll(pfd, 2, next_timeout_ms(&m));
        if (n < 0 && errno != EINTR) {
            log_error("poll: %s", strerror(errno));
            begin_stop(&m, "the master failed");
            status = 1;
        }
        if (n > 0 && pfd[0].revents)
            on_signal(&m);
        if (n > 0 && pfd[1].revents)
            on_ready(&m);
        if (reap(&m) < 0 && status == 0) {
            status = 1;
            begin_stop(&m, "a worker could not start");
        }
        if (m.stopping && clock_now_ns() >= m.kill_at_ns && live_workers(&m) > 0) {
            log_warn("%d workers still running after the grace period: killing them",
                     live_workers(&m));
            signal_workers(&m, SIGKILL);
            m.kill_at_ns = UINT64_MAX;
        }
        restart_due(&m);
    }
    log_info("all workers stopped");
    (void)close(m.listen_fd);
    (void)close(m.signal_fd);
    (void)close(m.ready_rd);
    (void)close(m.ready_wr);
    free(m.slot);
    return status;
}
