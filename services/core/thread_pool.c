/* Each thread waits on its own epoll set holding the listening socket
 * (EPOLLEXCLUSIVE: the kernel wakes one waiting thread per connection, as
 * a blocking accept() would, with no thundering herd) and the pool's stop
 * eventfd (every thread wakes). A thread blocked in accept() itself could
 * not be woken for a graceful stop: shutdown() of a socket that other
 * processes share (prefork's ACCEPT=shared) would stop them all, and a
 * signal can land between the check of a flag and the accept(). */
#include "thread_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "blocking_conn.h"
#include "clock.h"
#include "fanout.h"
#include "log.h"
#include "server.h"

struct thread_pool_s {
    int listen_fd;
    int stop_fd;    /* eventfd: readable once the pool stops */
    int keep_alive;
    int started;    /* threads started */
    pthread_mutex_t lock;
    pthread_cond_t settled;
    int ready, failed; /* threads set up, or not: start waits for all */
    pthread_t tid[];
};

/* The thread's wait set; -1 with the reason logged. */
static int make_wait_set(const thread_pool_t *pool)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        log_error("epoll_create1: %s", strerror(errno));
        return -1;
    }
    struct epoll_event listen_ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = pool->listen_fd};
    struct epoll_event stop_ev = {.events = EPOLLIN, .data.fd = pool->stop_fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, pool->listen_fd, &listen_ev) < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, pool->stop_fd, &stop_ev) < 0) {
        log_error("epoll_ctl: %s", strerror(errno));
        (void)close(ep);
        return -1;
    }
    return ep;
}

static void settle(thread_pool_t *pool, int ok)
{
    pthread_mutex_lock(&pool->lock);
    if (ok)
        pool->ready++;
    else
        pool->failed++;
    pthread_cond_signal(&pool->settled);
    pthread_mutex_unlock(&pool->lock);
}

static void *pool_thread(void *arg)
{
    thread_pool_t *pool = arg;
    fanout_client_t *fc = fanout_client_new(server_config);
    int ep = fc != NULL ? make_wait_set(pool) : -1;
    settle(pool, ep >= 0);
    if (ep < 0) {
        log_error("a pool thread cannot start%s", fc == NULL ? ": no upstream client" : "");
        fanout_client_free(fc);
        return NULL;
    }
    for (;;) {
        struct epoll_event ev;
        int n = epoll_wait(ep, &ev, 1, -1);
        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait: %s", strerror(errno));
            break;
        }
        if (n <= 0)
            continue;
        if (ev.data.fd == pool->stop_fd)
            break;
        int fd = accept4(pool->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            blocking_conn_serve(fd, fc, pool->keep_alive);
            continue;
        }
        /* EAGAIN: another thread took it. Running out of descriptors or
         * memory is logged, and the connection waits for a later try. */
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
            errno != ECONNABORTED)
            log_warn("accept: %s", strerror(errno));
    }
    (void)close(ep);
    fanout_client_free(fc);
    return NULL;
}

thread_pool_t *thread_pool_start(int listen_fd, int threads, int keep_alive)
{
    thread_pool_t *pool = calloc(1, sizeof *pool + (size_t)threads * sizeof(pthread_t));
    if (pool == NULL) {
        log_error("thread pool of %d: out of memory", threads);
        return NULL;
    }
    pool->listen_fd = listen_fd;
    pool->keep_alive = keep_alive;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->settled, NULL);
    pool->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (pool->stop_fd < 0) {
        log_error("eventfd: %s", strerror(errno));
        free(pool);
        return NULL;
    }
    for (; pool->started < threads; pool->started++) {
        int rc = pthread_create(&pool->tid[pool->started], NULL, pool_thread, pool);
        if (rc != 0) {
            log_error("thread %d of %d: pthread_create: %s", pool->started + 1, threads,
                      strerror(rc));
            (void)thread_pool_stop(pool, 0);
            return NULL;
        }
    }
    /* Ready means every thread can serve, its upstream client made. */
    pthread_mutex_lock(&pool->lock);
    while (pool->ready + pool->failed < threads)
        pthread_cond_wait(&pool->settled, &pool->lock);
    int failed = pool->failed;
    pthread_mutex_unlock(&pool->lock);
    if (failed > 0) {
        log_error("%d of %d pool threads could not start", failed, threads);
        (void)thread_pool_stop(pool, 0);
        return NULL;
    }
    log_info("%d threads take connections", threads);
    return pool;
}

int thread_pool_stop(thread_pool_t *pool, long grace_ms)
{
    uint64_t one = 1;
    if (write(pool->stop_fd, &one, sizeof one) != (ssize_t)sizeof one) {
        log_error("stopping the pool: write(eventfd): %s", strerror(errno));
        return pool->started;
    }
    struct timespec deadline = clock_realtime_deadline(grace_ms);
    int busy = 0;
    for (int i = 0; i < pool->started; i++)
        if (pthread_timedjoin_np(pool->tid[i], NULL, &deadline) != 0)
            busy++;
    if (busy > 0) {
        log_warn("%d threads still serving after the %ld ms grace period", busy, grace_ms);
        return busy; /* the pool stays: those threads still use it */
    }
    (void)close(pool->stop_fd);
    pthread_cond_destroy(&pool->settled);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
    return 0;
}
