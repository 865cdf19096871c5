/* The libuv I/O thread (grpc_io_thread.h). Work arrives on a locked list
 * and a uv_async wakes the loop; everything else is the event loop's own
 * fan-out driver, unchanged. */
#include "grpc_io_thread.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

typedef struct job_s {
    fanout_done_cb done;
    void *arg;
    struct job_s *next;
} job_t;

struct grpc_io_thread_s {
    uv_loop_t loop;
    uv_async_t wake;
    fanout_loop_t *fanout;
    const server_config_t *cfg;
    pthread_t thread;
    pthread_mutex_t lock; /* guards the list and stopping */
    job_t *head, *tail;
    int stopping;
};

/* The fan-out could not start: the call still gets its answer (502's
 * gRPC counterpart, UNAVAILABLE). */
static void fail_job(grpc_io_thread_t *t, job_t *job)
{
    fanout_result_t failed = {.calls = t->cfg->fanout, .failed = t->cfg->fanout};
    snprintf(failed.first_error, sizeof failed.first_error, "cannot start the fan-out");
    job->done(job->arg, &failed);
}

static void wake_cb(uv_async_t *wake)
{
    grpc_io_thread_t *t = wake->data;
    pthread_mutex_lock(&t->lock);
    job_t *job = t->head;
    t->head = t->tail = NULL;
    int stopping = t->stopping;
    pthread_mutex_unlock(&t->lock);
    while (job != NULL) {
        job_t *next = job->next;
        if (fanout_loop_start(t->fanout, job->done, job->arg) != 0)
            fail_job(t, job);
        free(job);
        job = next;
    }
    if (stopping) {
        fanout_loop_close(t->fanout);
        uv_close((uv_handle_t *)&t->wake, NULL);
    }
}

static void *thread_main(void *arg)
{
    grpc_io_thread_t *t = arg;
    if (uv_run(&t->loop, UV_RUN_DEFAULT) != 0)
        log_warn("I/O loop ended with handles open");
    return NULL;
}

grpc_io_thread_t *grpc_io_thread_start(const server_config_t *cfg)
{
    grpc_io_thread_t *t = calloc(1, sizeof *t);
    if (t == NULL) {
        log_error("out of memory for the I/O thread");
        return NULL;
    }
    t->cfg = cfg;
    int rc = uv_loop_init(&t->loop);
    if (rc != 0) {
        log_error("uv_loop_init: %s", uv_strerror(rc));
        free(t);
        return NULL;
    }
    t->wake.data = t;
    if ((rc = uv_async_init(&t->loop, &t->wake, wake_cb)) != 0) {
        log_error("uv_async_init: %s", uv_strerror(rc));
        goto fail_loop;
    }
    if ((t->fanout = fanout_loop_new(&t->loop, cfg)) == NULL) {
        log_error("cannot set up the upstream client");
        goto fail_wake;
    }
    pthread_mutex_init(&t->lock, NULL);
    if ((rc = pthread_create(&t->thread, NULL, thread_main, t)) != 0) {
        log_error("pthread_create: %s", strerror(rc));
        pthread_mutex_destroy(&t->lock);
        fanout_loop_close(t->fanout);
        goto fail_wake;
    }
    return t;
fail_wake:
    uv_close((uv_handle_t *)&t->wake, NULL);
    (void)uv_run(&t->loop, UV_RUN_DEFAULT); /* runs the close callbacks */
fail_loop:
    (void)uv_loop_close(&t->loop);
    free(t);
    return NULL;
}

int grpc_io_thread_fanout(grpc_io_thread_t *t, fanout_done_cb done, void *arg)
{
    job_t *job = malloc(sizeof *job);
    if (job == NULL)
        return -1;
    *job = (job_t){.done = done, .arg = arg};
    pthread_mutex_lock(&t->lock);
    if (t->tail != NULL)
        t->tail->next = job;
    else
        t->head = job;
    t->tail = job;
    pthread_mutex_unlock(&t->lock);
    /* Coalesces: one wake-up may take several jobs. It cannot fail on an
     * initialised, open handle. */
    (void)uv_async_send(&t->wake);
    return 0;
}

void grpc_io_thread_stop(grpc_io_thread_t *t)
{
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_mutex_unlock(&t->lock);
    (void)uv_async_send(&t->wake);
    int rc = pthread_join(t->thread, NULL);
    if (rc != 0)
        log_error("pthread_join: %s", strerror(rc));
    if (uv_loop_close(&t->loop) != 0)
        log_warn("I/O loop closed with handles still open");
    pthread_mutex_destroy(&t->lock);
    free(t);
}
