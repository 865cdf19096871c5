/* thread-per-request: a new thread for each connection, without bound.
 *
 * The Flask development server with threads. The main thread accepts; each
 * connection gets a thread of its own, which serves it in blocking style
 * and ends. Nothing waits for a free worker, so capacity is unbounded (the
 * ceiling is c/delay), but every request pays for a thread and a fan-out
 * client of its own. The clients take their upstream connections from one
 * process-wide pool (fanout_share_connections): with fresh ones for each
 * request, as grequests without a shared session had, 1000 connects a
 * second ran the upstream's ephemeral ports out (README, findings). Too
 * many threads at once (pthread_create fails) closes that connection.
 *
 * Connections close after each answer: the dev server speaks HTTP/1.0. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "blocking_conn.h"
#include "clock.h"
#include "fanout.h"
#include "log.h"
#include "server.h"

static const variant_t VARIANT = {
    .name = "thread-per-request",
    .model = "a new thread for each connection, blocking I/O",
    .keep_alive = 0,
    .settings = SETTINGS_HTTP | SETTINGS_GRACE,
};

/* Threads serving a connection; main waits for 0 on a graceful stop. */
static pthread_mutex_t active_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t active_done = PTHREAD_COND_INITIALIZER;
static int active;

static void *connection_thread(void *arg)
{
    int fd = (int)(intptr_t)arg;
    fanout_client_t *fc = fanout_client_new(server_config);
    if (fc != NULL)
        blocking_conn_serve(fd, fc, VARIANT.keep_alive);
    else {
        log_error("no upstream client for a connection: closing it");
        (void)close(fd);
    }
    fanout_client_free(fc);
    pthread_mutex_lock(&active_lock);
    if (--active == 0)
        pthread_cond_signal(&active_done);
    pthread_mutex_unlock(&active_lock);
    return NULL;
}

/* Start a detached thread for fd, with the stop signals blocked in it so
 * that they reach the accepting thread. */
static int spawn(int fd, pthread_attr_t *attr, const sigset_t *stop)
{
    sigset_t old;
    pthread_t tid;
    pthread_sigmask(SIG_BLOCK, stop, &old);
    pthread_mutex_lock(&active_lock);
    int rc = pthread_create(&tid, attr, connection_thread, (void *)(intptr_t)fd);
    if (rc == 0)
        active++;
    pthread_mutex_unlock(&active_lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Wait for the connection threads, at most grace_ms. Returns how many are
 * still running. */
static int wait_for_threads(long grace_ms)
{
    struct timespec deadline = clock_realtime_deadline(grace_ms);
    pthread_mutex_lock(&active_lock);
    while (active > 0 && pthread_cond_timedwait(&active_done, &active_lock, &deadline) == 0)
        ;
    int left = active;
    pthread_mutex_unlock(&active_lock);
    return left;
}

int main(int argc, char **argv)
{
    server_config_t cfg;
    server_config_load(&cfg, &VARIANT, argc, argv);
    server_capacity = 0; /* unbounded: one thread per connection */
    server_install_stop_handlers();
    if (fanout_global_init() < 0 || fanout_share_connections() < 0)
        return 1;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0 ||
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0) {
        log_error("pthread_attr: cannot set up");
        return 1;
    }
    sigset_t stop = server_stop_signals();
    int listen_fd = server_listen(&cfg, 0, 0);

    while (!server_stopping) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EINTR)
                log_warn("accept: %s", strerror(errno));
            continue;
        }
        int rc = spawn(fd, &attr, &stop);
        if (rc != 0) {
            log_warn("pthread_create: %s: closing the connection", strerror(rc));
            (void)close(fd);
        }
    }

    (void)close(listen_fd);
    int left = wait_for_threads(cfg.grace_ms);
    if (left > 0) {
        log_warn("%d connections still served after the %ld ms grace period", left, cfg.grace_ms);
        return 0; /* exiting ends them */
    }
    pthread_attr_destroy(&attr);
    curl_global_cleanup();
    return 0;
}
