/* threadpool: one process, a fixed pool of THREADS threads.
 *
 * uwsgi or gunicorn with 1 worker x 50 (or 200) threads. Each thread takes
 * a connection from the listening socket, serves it in blocking style
 * (read, fan out, answer, close) and takes the next. THREADS requests are
 * in progress at once; the others wait in the listen queue, so the ceiling
 * is min(c, THREADS) / delay. The threads share nothing but the socket:
 * no queue, no lock, the kernel hands each connection to one of them.
 *
 * Connections close after each answer, as uwsgi's HTTP socket does by
 * default: a kept-alive connection would hold its thread between requests. */
#include <stdlib.h>
#include <unistd.h>

#include "fanout.h"
#include "log.h"
#include "net.h"
#include "server.h"
#include "thread_pool.h"

static const variant_t VARIANT = {
    .name = "threadpool",
    .model = "one process, a fixed pool of threads, blocking I/O",
    .keep_alive = 0,
    .threads = 50,
    .settings = SETTINGS_HTTP | SETTINGS_THREADS | SETTINGS_GRACE,
};

int main(int argc, char **argv)
{
    server_config_t cfg;
    server_config_load(&cfg, &VARIANT, argc, argv);
    server_capacity = cfg.threads;
    sigset_t stop = server_block_stop_signals();
    if (fanout_global_init() < 0)
        return 1;
    int listen_fd = server_open_socket(&cfg, cfg.port, cfg.backlog, 0, 1);
    thread_pool_t *pool = thread_pool_start(listen_fd, cfg.threads, VARIANT.keep_alive);
    if (pool == NULL)
        return 1;
    server_announce(&cfg, net_local_port(listen_fd));

    (void)server_wait_stop_signal(&stop);
    int busy = thread_pool_stop(pool, cfg.grace_ms);
    (void)close(listen_fd);
    if (busy == 0)
        curl_global_cleanup();
    return 0;
}
