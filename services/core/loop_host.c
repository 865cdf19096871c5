/* One host per process: the loop models are single-threaded and each
 * process serves one listening socket, so the host's state is the file's
 * (as the models' own is theirs), and its accessors stand where the
 * models' file-scope variables used to. */
#include "loop_host.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop_accept.h"
#include "supervisor.h"

static struct {
    const server_config_t *cfg;
    const loop_host_model_t *model;
    uv_loop_t *loop;
    fanout_loop_t *fanout;
    loop_accept_t accept;
    uv_signal_t sigterm, sigint;
    int stopping;
} host;

uv_loop_t *loop_host_loop(void) { return host.loop; }
fanout_loop_t *loop_host_fanout(void) { return host.fanout; }
int loop_host_stopping(void) { return host.stopping; }
int loop_host_live(void) { return host.accept.live; }
int loop_host_listen_fd(void) { return host.accept.fd; }

/* Stopping, with no connection left: close the fan-out driver (on the
 * loop's next turn: the last connection may end inside the driver's own
 * callback, its fan-out just done). Then nothing holds the loop. */
static void close_when_idle(void)
{
    if (host.stopping && host.accept.live == 0)
        fanout_loop_close_soon(host.fanout);
}

void loop_host_conn_ended(void)
{
    loop_accept_ended(&host.accept);
    close_when_idle();
}

static void accepted_cb(loop_accept_t *a, int fd)
{
    (void)a;
    int rc = host.model->conn_cb(fd);
    if (rc < 0) {
        log_warn("cannot serve a connection: %s", strerror(-rc));
        (void)close(fd);
        loop_host_conn_ended();
    }
}

static void stop_signal_cb(uv_signal_t *sig, int signum)
{
    (void)sig;
    log_info("signal %d: stopping", signum);
    host.stopping = 1;
    loop_accept_close(&host.accept);
    uv_close((uv_handle_t *)&host.sigterm, NULL);
    uv_close((uv_handle_t *)&host.sigint, NULL);
    host.model->stop_cb();
    close_when_idle();
}

/* The loop's handles: the fan-out driver, the stop signals, the accept
 * path. Returns 0, or a negative errno after saying why. */
static int open_handles(int listen_fd)
{
    host.loop = uv_default_loop();
    host.fanout = fanout_loop_new(host.loop, host.cfg);
    if (host.fanout == NULL) {
        log_error("cannot set up the upstream client");
        return -ENOMEM;
    }
    int rc;
    if ((rc = uv_signal_init(host.loop, &host.sigterm)) != 0 ||
        (rc = uv_signal_start(&host.sigterm, stop_signal_cb, SIGTERM)) != 0 ||
        (rc = uv_signal_init(host.loop, &host.sigint)) != 0 ||
        (rc = uv_signal_start(&host.sigint, stop_signal_cb, SIGINT)) != 0 ||
        (rc = loop_accept_open(&host.accept, host.loop, listen_fd, host.model->max_connections,
                               accepted_cb)) != 0) {
        log_error("libuv set-up: %s", uv_strerror(rc));
        return rc;
    }
    return 0;
}

/* Once the handles are set (the stop signals' among them): a worker lets
 * the stop signals through (one that came meanwhile lands in the handler
 * now) and tells the master it is ready. Then the loop runs until nothing
 * is left on it. Returns the exit status. */
static int run_loop(int in_worker)
{
    if (in_worker) {
        server_unblock_stop_signals();
        supervisor_worker_ready();
    }
    int rc = uv_run(host.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(host.loop) != 0)
        log_warn("loop closed with handles still open");
    return rc == 0 ? 0 : 1;
}

/* Serve on listen_fd (listening, non-blocking) until a stop signal.
 * in_worker: under the master, which waits for this worker to be ready. */
static int serve(int listen_fd, int in_worker)
{
    if (open_handles(listen_fd) != 0)
        return 1;
    int status = run_loop(in_worker);
    curl_global_cleanup();
    return status;
}

/* curl's global state is made in each worker, after the fork. */
static int worker_main(int listen_fd, int index)
{
    (void)index;
    return fanout_global_init() < 0 ? 1 : serve(listen_fd, 1);
}

int loop_host_run(const server_config_t *cfg, const loop_host_model_t *model)
{
    host.cfg = cfg;
    host.model = model;
    if (cfg->workers > 1 || cfg->master)
        return supervisor_run(cfg, 1, worker_main); /* libuv needs non-blocking sockets */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || fanout_global_init() < 0)
        return 1;
    /* SO_REUSEPORT: more such processes, started by hand, can share the port. */
    return serve(server_listen(cfg, 1, 1), 0);
}
