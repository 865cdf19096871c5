#include "harness.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

extern char **environ;

double now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void harness_filter_from_env(void)
{
    const char *filter = getenv("TEST_FILTER");
    if (filter != NULL && *filter != '\0')
        cmocka_set_test_filter(filter);
}

const char *bin_path(const char *program)
{
    static char paths[8][512];
    static int next;
    const char *build = getenv("BUILD");
    char *out = paths[next++ % 8];
    snprintf(out, sizeof paths[0], "%s/bin/%s", build && *build ? build : "build", program);
    return out;
}

/* Wait until fd is readable or the deadline (monotonic ms) passes.
 * Returns 1 readable, 0 timed out, or -errno. */
static int wait_readable(int fd, double deadline_ms)
{
    for (;;) {
        int left = (int)(deadline_ms - now_ms());
        if (left <= 0)
            return 0;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, left);
        if (r >= 0)
            return r;
        if (errno != EINTR)
            return -errno;
    }
}

/* Read the port line from the ready pipe, waiting at most timeout_ms. */
static int read_port(int fd, int timeout_ms)
{
    char line[32];
    size_t used = 0;
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        int r = wait_readable(fd, deadline);
        if (r <= 0)
            return r == 0 ? -ETIMEDOUT : r;
        ssize_t n = read(fd, line + used, sizeof line - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EPIPE; /* exited or closed the pipe without a port */
        used += (size_t)n;
        line[used] = '\0';
        if (strchr(line, '\n') != NULL)
            return atoi(line);
        if (used == sizeof line - 1)
            return -EPROTO;
    }
}

int proc_start(proc_t *p, const char *const argv[], const char *const env[], int timeout_ms)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    memset(p, 0, sizeof *p);
    const char *slash = strrchr(argv[0], '/');
    snprintf(p->name, sizeof p->name, "%s", slash ? slash + 1 : argv[0]);

    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return -e;
    }
    if (pid == 0) {
        /* Die with the test: a failed assertion leaves the test without
         * running its clean-up, and an orphaned server would hold ports and
         * the runner's output pipe open. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1)
            _exit(127);
        /* The write end must survive exec: move it past CLOEXEC. */
        int wfd = dup(pipefd[1]);
        if (wfd < 0)
            _exit(127);
        char fdarg[16];
        snprintf(fdarg, sizeof fdarg, "%d", wfd);
        size_t argc = 0;
        while (argv[argc] != NULL)
            argc++;
        const char **args = calloc(argc + 3, sizeof *args);
        if (args == NULL)
            _exit(127);
        memcpy(args, argv, argc * sizeof *args);
        args[argc] = "--ready-fd";
        args[argc + 1] = fdarg;
        for (size_t i = 0; env != NULL && env[i] != NULL; i++)
            if (putenv((char *)env[i]) != 0)
                _exit(127);
        execve(argv[0], (char *const *)args, environ);
        fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    p->pid = pid;
    int port = read_port(pipefd[0], timeout_ms);
    close(pipefd[0]);
    if (port <= 0) {
        proc_kill(p);
        return port < 0 ? port : -EPROTO;
    }
    p->port = port;
    return 0;
}

static int wait_exit(pid_t pid, int timeout_ms, int *status)
{
    /* waitpid has no timeout; a pidfd becomes readable when the child exits. */
    int pidfd = pidfd_open(pid, 0);
    if (pidfd < 0)
        return -errno;
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    int r;
    do
        r = poll(&pfd, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    close(pidfd);
    if (r == 0)
        return -ETIMEDOUT;
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

int proc_wait(proc_t *p, int timeout_ms)
{
    if (p->pid <= 0)
        return -ESRCH;
    int status = 0;
    int rc = wait_exit(p->pid, timeout_ms, &status);
    if (rc == -ETIMEDOUT) {
        proc_kill(p);
        return -ETIMEDOUT;
    }
    p->pid = 0;
    if (rc < 0)
        return rc;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

int proc_stop(proc_t *p, int timeout_ms)
{
    if (p->pid <= 0)
        return -ESRCH;
    if (kill(p->pid, SIGTERM) < 0)
        return -errno;
    return proc_wait(p, timeout_ms);
}

void proc_kill(proc_t *p)
{
    if (p->pid <= 0)
        return;
    int status;
    (void)kill(p->pid, SIGKILL);
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    p->pid = 0;
}

int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Status and total length once headers and body are in, else 0. */
static int response_complete(const char *resp, size_t used, int *status)
{
    const char *end = strstr(resp, "\r\n\r\n");
    if (end == NULL)
        return 0;
    if (sscanf(resp, "HTTP/1.%*d %d", status) != 1)
        return -EPROTO;
    const char *cl = strcasestr(resp, "\r\nContent-Length:");
    if (cl == NULL || cl > end)
        return 0; /* body runs to EOF */
    size_t body = strtoul(cl + 17, NULL, 10);
    return (size_t)(end + 4 - resp) + body <= used;
}

int http_read_response(int fd, char *resp, size_t cap, int timeout_ms)
{
    size_t used = 0;
    int status = 0;
    double deadline = now_ms() + timeout_ms;
    resp[0] = '\0';
    for (;;) {
        int r = wait_readable(fd, deadline);
        if (r <= 0)
            return r == 0 ? -ETIMEDOUT : r;
        ssize_t n = recv(fd, resp + used, cap - 1 - used, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return used > 0 && sscanf(resp, "HTTP/1.%*d %d", &status) == 1 ? status : -errno;
        if (n == 0) {
            if (sscanf(resp, "HTTP/1.%*d %d", &status) == 1)
                return status;
            return used == 0 ? -ECONNRESET : -EPROTO;
        }
        used += (size_t)n;
        resp[used] = '\0';
        int done = response_complete(resp, used, &status);
        if (done < 0)
            return done;
        if (done)
            return status;
        if (used == cap - 1)
            return -ENOSPC;
    }
}

int http_raw(int port, const char *raw, size_t len, char *resp, size_t cap, int timeout_ms)
{
    int fd = tcp_connect(port);
    if (fd < 0)
        return fd;
    int rc = send_all(fd, raw, len);
    if (rc == 0)
        rc = http_read_response(fd, resp, cap, timeout_ms);
    close(fd);
    return rc;
}

int http_send_many(int port, const char *raw, size_t len, int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        fds[i] = tcp_connect(port);
        int rc = fds[i] < 0 ? fds[i] : send_all(fds[i], raw, len);
        if (rc != 0) {
            for (int j = 0; j <= i; j++)
                if (fds[j] >= 0)
                    close(fds[j]);
            return rc;
        }
    }
    return 0;
}

int http_get(int port, const char *path, char *body, size_t cap, int timeout_ms)
{
    char req[1024], resp[16384];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (n < 0 || (size_t)n >= sizeof req)
        return -ENOSPC;
    int status = http_raw(port, req, (size_t)n, resp, sizeof resp, timeout_ms);
    if (status > 0 && body != NULL && cap > 0) {
        const char *b = strstr(resp, "\r\n\r\n");
        snprintf(body, cap, "%s", b ? b + 4 : "");
    }
    return status;
}

int peer_closed(int fd, int timeout_ms)
{
    char buf[4096];
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        if (wait_readable(fd, deadline) <= 0)
            return 0;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return 1;
        if (n < 0 && errno != EINTR)
            return 0;
    }
}
