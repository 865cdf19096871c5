/* prefork: a master and WORKERS processes, each a pool of THREADS threads.
 *
 * uwsgi or gunicorn with 4 workers x 50 threads. The master (supervisor.c)
 * opens the port and forks the workers; each worker is the threadpool
 * model. WORKERS x THREADS requests are in progress at once, so the
 * ceiling is min(c, WORKERS x THREADS) / delay. What processes add over
 * threads: a worker that crashes takes only its own requests with it (the
 * master starts a new one), and, in Python, one interpreter lock each.
 *
 * ACCEPT=shared (the default, as gunicorn and uwsgi do): every worker
 * takes connections from one inherited socket. ACCEPT=reuseport: a socket
 * per worker; the kernel spreads connections by a hash of their addresses,
 * whatever each worker's load. Connections close after each answer. */
#include "fanout.h"
#include "log.h"
#include "server.h"
#include "supervisor.h"
#include "thread_pool.h"

static const variant_t VARIANT = {
    .name = "prefork",
    .model = "a master and worker processes, each a pool of threads, blocking I/O",
    .keep_alive = 0,
    .threads = 50,
    .workers = 4,
    .settings = SETTINGS_HTTP | SETTINGS_THREADS | SETTINGS_WORKERS | SETTINGS_GRACE,
};

static server_config_t cfg;

static int worker_main(int listen_fd, int index)
{
    (void)index;
    sigset_t stop = server_block_stop_signals(); /* blocked already; the set */
    if (fanout_global_init() < 0)
        return 1;
    thread_pool_t *pool = thread_pool_start(listen_fd, cfg.threads, VARIANT.keep_alive);
    if (pool == NULL)
        return 1;
    supervisor_worker_ready();

    (void)server_wait_stop_signal(&stop);
    return thread_pool_stop(pool, cfg.grace_ms) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    server_config_load(&cfg, &VARIANT, argc, argv);
    server_capacity = cfg.workers * cfg.threads;
    return supervisor_run(&cfg, 1, worker_main);
}
