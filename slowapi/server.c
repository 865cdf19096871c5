/* The loop: listening, accepting in bounded batches under a connection cap,
 * signals, stop.
 *
 * Accepting can starve the timers, and descriptors run out first under
 * overload (every waiting request is a socket), so accepting has brakes:
 *
 * 1. At most ACCEPT_BATCH accepts per loop iteration. libuv would accept
 *    every pending connection in one go (thousands at a benchmark's start),
 *    and the timers due meanwhile would wait for all of them. Past the batch
 *    we leave the socket libuv accepted for us untaken: libuv then stops
 *    polling the listener until we take it, which the check handle does
 *    right after this iteration's I/O, so the next batch comes after the
 *    next iteration's timers.
 * 2. A cap below RLIMIT_NOFILE (config->max_conns), with the same hold: at
 *    the cap the socket stays with libuv until a connection ends. New
 *    clients wait in the kernel backlog (they see latency, not errors), and
 *    nothing spins.
 * 3. If accept() fails anyway (EMFILE/ENFILE because something else used
 *    descriptors, ENOBUFS, ...), libuv 1.44 first sheds load with its
 *    reserve descriptor (close it, accept and close every pending client,
 *    reopen it). Only when that fails does our callback see the error, and
 *    then libuv would retry accept() at once, in a loop, at 100% CPU. So we
 *    log, close the listening handle, which breaks that loop, and listen
 *    again ACCEPT_PAUSE_MS later. libuv only ever gets a dup of listen_fd,
 *    so closing its handle keeps the socket, its port and its backlog. */
#include "slowapi.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "net.h"

#define ACCEPT_BATCH 32
#define ACCEPT_PAUSE_MS 100
/* Accept trouble comes in bursts: at most one warning of a kind a second. */
#define ACCEPT_WARN_INTERVAL_MS 1000

static void server_on_connection(uv_stream_t *listener, int status);
static void server_on_resume(uv_timer_t *timer);

static void listener_on_closed(uv_handle_t *handle) { free(handle); }

static int listener_start(server_t *s)
{
    uv_tcp_t *listener = malloc(sizeof *listener);
    if (listener == NULL)
        return UV_ENOMEM;
    int rc = uv_tcp_init(&s->loop, listener);
    if (rc < 0) {
        free(listener);
        return rc;
    }
    listener->data = s;
    int fd = fcntl(s->listen_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
    } else {
        rc = uv_tcp_open(listener, fd);
        if (rc < 0)
            close(fd); /* not libuv's yet */
    }
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)listener, s->config->backlog, server_on_connection);
    if (rc < 0) {
        uv_close((uv_handle_t *)listener, listener_on_closed);
        return rc;
    }
    s->listener = listener;
    return 0;
}

static void listener_stop(server_t *s)
{
    if (s->listener == NULL)
        return;
    /* Also closes a socket libuv holds for us: that one client is reset. */
    uv_close((uv_handle_t *)s->listener, listener_on_closed);
    s->listener = NULL;
    s->accept_held = 0;
}

static void server_pause_accepting(server_t *s, int err)
{
    uint64_t now_ms = uv_now(&s->loop);
    s->accept_errors++;
    if (s->accept_errors == 1 || now_ms - s->last_accept_warn_ms >= ACCEPT_WARN_INTERVAL_MS) {
        log_warn("accept: %s (%llu errors so far, %zu connections open); "
                 "not accepting for %d ms",
                 uv_strerror(err), (unsigned long long)s->accept_errors, s->conn_count,
                 ACCEPT_PAUSE_MS);
        s->last_accept_warn_ms = now_ms;
    }
    listener_stop(s);
    int rc = uv_timer_start(&s->resume_timer, server_on_resume, ACCEPT_PAUSE_MS, 0);
    if (rc < 0)
        log_error("uv_timer_start: %s: no longer accepting", uv_strerror(rc));
}

static void server_on_resume(uv_timer_t *timer)
{
    server_t *s = timer->data;
    if (s->stopping || s->listener != NULL)
        return;
    int rc = listener_start(s);
    if (rc < 0)
        server_pause_accepting(s, rc);
}

static void server_accept(server_t *s)
{
    s->accepts_this_iteration++;
    int rc = conn_accept(s, (uv_stream_t *)s->listener);
    if (rc < 0)
        server_pause_accepting(s, rc);
}

static int server_at_cap(const server_t *s) { return s->conn_count >= s->config->max_conns; }

/* Take the socket libuv holds for us, if the brakes allow it now. */
static void server_take_held(server_t *s)
{
    if (s->accept_held && s->listener != NULL && !server_at_cap(s) &&
        s->accepts_this_iteration < ACCEPT_BATCH) {
        s->accept_held = 0;
        server_accept(s);
    }
}

static void server_on_connection(uv_stream_t *listener, int status)
{
    server_t *s = listener->data;
    if (status < 0) {
        server_pause_accepting(s, status);
        return;
    }
    uint64_t now_ms = uv_now(&s->loop);
    if (server_at_cap(s) && (s->last_cap_warn_ms == 0 ||
                             now_ms - s->last_cap_warn_ms >= ACCEPT_WARN_INTERVAL_MS)) {
        log_warn("%zu connections open, the cap from RLIMIT_NOFILE: "
                 "new ones wait in the backlog",
                 s->conn_count);
        s->last_cap_warn_ms = now_ms;
    }
    /* Leaving it untaken makes libuv stop polling the listener. */
    s->accept_held = 1;
    server_take_held(s);
}

/* After each iteration's I/O: a new batch may start. */
static void server_on_check(uv_check_t *check)
{
    server_t *s = check->data;
    s->accepts_this_iteration = 0;
    server_take_held(s);
}

void server_conn_closed(server_t *s) { server_take_held(s); }

/* server->delays' due_cb: whoever waits on d answers now. */
static void server_on_due(delay_timer_t *t, deadline_t *d)
{
    (void)t;
    delayed_t *w = (delayed_t *)((char *)d - offsetof(delayed_t, deadline));
    w->due_cb(w);
}

/* STALL: the whole process stops for stall_ns, every stall_every_ns, as a
 * process that pauses (a garbage collector, swapping, a CPU taken away)
 * does: nothing is read, accepted or answered meanwhile. The sleep is the
 * fault itself, on purpose on the loop's thread. */
static void server_on_stall(uv_timer_t *timer)
{
    server_t *s = timer->data;
    struct timespec left = {.tv_sec = (time_t)(s->config->stall_ns / 1000000000u),
                            .tv_nsec = (long)(s->config->stall_ns % 1000000000u)};
    log_debug("stalling for %.3f s", (double)s->config->stall_ns / 1e9);
    while (nanosleep(&left, &left) < 0 && errno == EINTR)
        ;
}

/* server->delays' done_cb: the answers of the run go out. */
static void server_on_due_done(delay_timer_t *t)
{
    h2_flush_answered(t->data);
}

static void server_stop(server_t *s)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    listener_stop(s);
    uv_close((uv_handle_t *)&s->accept_check, NULL);
    uv_close((uv_handle_t *)&s->resume_timer, NULL);
    uv_close((uv_handle_t *)&s->stall_timer, NULL);
    delay_timer_close(&s->delays);
    if (s->signal_handles >= 1)
        uv_close((uv_handle_t *)&s->sigterm, NULL);
    if (s->signal_handles >= 2)
        uv_close((uv_handle_t *)&s->sigint, NULL);
    conn_close_all(s);
}

static void server_on_signal(uv_signal_t *handle, int signum)
{
    server_t *s = handle->data;
    log_info("%s: stopping (%zu connections open)", strsignal(signum), s->conn_count);
    server_stop(s);
}

static int server_start(server_t *s)
{
    const slowapi_config_t *config = s->config;
    /* The first uv_signal_init makes the loop's signal pipe, so it can fail;
     * signal_handles tells server_stop what to close. */
    int rc = uv_signal_init(&s->loop, &s->sigterm);
    if (rc == 0) {
        s->signal_handles = 1;
        rc = uv_signal_init(&s->loop, &s->sigint);
    }
    if (rc < 0) {
        log_error("uv_signal_init: %s", uv_strerror(rc));
        return -1;
    }
    s->signal_handles = 2;
    s->sigterm.data = s->sigint.data = s;

    char err[NET_ERR_LEN];
    s->listen_fd = net_listen_tcp(config->host, config->port, config->backlog, config->reuseport,
                                  1, err);
    if (s->listen_fd < 0) {
        log_error("%s", err);
        return -1;
    }
    rc = uv_check_start(&s->accept_check, server_on_check);
    if (rc == 0 && config->stall_every_ns > 0) {
        uint64_t every_ms = config->stall_every_ns / 1000000u;
        rc = uv_timer_start(&s->stall_timer, server_on_stall, every_ms, every_ms);
    }
    if (rc == 0)
        rc = listener_start(s);
    if (rc < 0) {
        log_error("listen: %s", uv_strerror(rc));
        return -1;
    }
    /* Signals before the ready line: a parent may send SIGTERM right after. */
    rc = uv_signal_start(&s->sigterm, server_on_signal, SIGTERM);
    if (rc == 0)
        rc = uv_signal_start(&s->sigint, server_on_signal, SIGINT);
    if (rc < 0) {
        log_error("uv_signal_start: %s", uv_strerror(rc));
        return -1;
    }
    int port = net_local_port(s->listen_fd);
    if (port < 0) {
        log_error("getsockname: %s", strerror(errno));
        return -1;
    }
    log_info("listening on %s:%d (backlog %d, at most %zu connections)", config->host, port,
             config->backlog, config->max_conns);
    rc = net_ready_notify(config->ready_fd, port);
    if (rc < 0) {
        log_error("ready fd %d: %s", config->ready_fd, strerror(-rc));
        return -1;
    }
    return 0;
}

/* After the loop has ended: the loop, the timerfd and the listening
 * socket. Returns 0, or -1 when closing one failed (logged). */
static int server_close(server_t *s)
{
    int failed = 0;
    int rc = uv_loop_close(&s->loop);
    if (rc < 0) {
        log_error("uv_loop_close: %s", uv_strerror(rc));
        failed = 1;
    }
    rc = delay_timer_free(&s->delays);
    if (rc < 0) {
        log_error("close(timerfd): %s", strerror(-rc));
        failed = 1;
    }
    if (s->listen_fd >= 0 && close(s->listen_fd) < 0) {
        log_error("close(listen socket): %s", strerror(errno));
        failed = 1;
    }
    return failed ? -1 : 0;
}

int server_init(server_t *s, const slowapi_config_t *config)
{
    s->config = config;
    s->listen_fd = -1;
    int rc = uv_loop_init(&s->loop);
    if (rc < 0) {
        log_error("uv_loop_init: %s", uv_strerror(rc));
        return rc;
    }
    /* uv_timer_init and uv_check_init cannot fail. */
    (void)uv_timer_init(&s->loop, &s->resume_timer);
    (void)uv_timer_init(&s->loop, &s->stall_timer);
    (void)uv_check_init(&s->loop, &s->accept_check);
    s->resume_timer.data = s->accept_check.data = s->stall_timer.data = s;
    stats_init(&s->stats, config->calls_total);
    s->health_len = route_health_body(s->health_body, sizeof s->health_body);
    /* xorshift's state must not be 0; any seed maps to one that is not. */
    s->fault_rng = config->fault_seed * 0x9E3779B97F4A7C15ULL + 1;
    if (s->fault_rng == 0)
        s->fault_rng = 1;
    rc = delay_timer_init(&s->loop, &s->delays, server_on_due, server_on_due_done);
    s->delays.data = s;
    if (rc < 0) {
        log_error("delay timer (timerfd): %s", uv_strerror(rc));
        server_stop(s);
        (void)uv_run(&s->loop, UV_RUN_DEFAULT); /* long enough to finish closing */
        (void)server_close(s);
    }
    return rc;
}

int server_run(const slowapi_config_t *config)
{
    /* On the heap: the shared read buffer makes it 64 KiB. */
    server_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        log_error("out of memory");
        return 1;
    }
    int exit_code = 1;
    if (server_init(s, config) < 0)
        goto out;
    if (server_start(s) == 0)
        exit_code = 0;
    else
        server_stop(s);
    /* Until a signal has closed every handle (after a failed start: just
     * long enough to finish closing). */
    (void)uv_run(&s->loop, UV_RUN_DEFAULT);
    if (server_close(s) < 0)
        exit_code = 1;
out:
    free(s);
    return exit_code;
}
