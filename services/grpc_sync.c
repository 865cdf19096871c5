/* grpc-sync: a pool of THREADS threads, each serving one gRPC call at a
 * time, to its end, in blocking style.
 *
 * The grpc.server(ThreadPoolExecutor(max_workers=N)) analogue. Each thread
 * has a completion queue of its own and asks the server for one call on
 * it; it waits for the call, then for its request, makes the upstream
 * fan-out itself (blocking, as threadpool's threads do), sends the reply,
 * waits until it is out, and asks for the next. THREADS calls are served
 * at once; the others wait in the server, each on its HTTP/2 stream,
 * first come, first served. So the ceiling is min(c, THREADS) / delay, and
 * unlike the HTTP pools no connection has to close to let others in: a
 * waiting call costs a stream, not a thread. THREADS defaults to 10, the
 * pool size of gRPC's own Python examples. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc.h>
#include <grpc/support/time.h>

#include "fanout.h"
#include "grpc_host.h"
#include "grpc_rpc.h"
#include "log.h"
#include "server.h"

static const variant_t VARIANT = {
    .name = "grpc-sync",
    .model = "a pool of threads, each waits on a completion queue for one gRPC call and "
             "serves it to its end in blocking style",
    .keep_alive = 1, /* HTTP/2: one connection carries every call */
    .threads = 10,
    .settings = SETTINGS_THREADS | SETTINGS_GRACE,
};

typedef struct worker_s {
    grpc_server *server;
    grpc_completion_queue *cq;
    fanout_client_t *fanout;
    pthread_t thread;
} worker_t;

/* One batch is in flight at a time on a worker's queue: the next event
 * is its end. */
static int batch_done(worker_t *w, grpc_call_error started)
{
    if (started != GRPC_CALL_OK) {
        log_error("gRPC: %s", grpc_call_error_to_string(started));
        return 0;
    }
    grpc_event ev = grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    return ev.type == GRPC_OP_COMPLETE && ev.success;
}

static void serve_call(worker_t *w, grpc_rpc_t *rpc)
{
    if (!batch_done(w, grpc_rpc_start_receive(rpc, rpc)))
        return; /* the client went away */
    if (grpc_rpc_received(rpc) == 0) {
        if (rpc->method == GRPC_METHOD_IO) {
            fanout_result_t result;
            (void)fanout_client_run(w->fanout, &result); /* a failure is in result */
            grpc_reply_io(&result, &rpc->reply);
        } else {
            grpc_reply_now(rpc->method, rpc->request, &rpc->reply);
        }
    }
    (void)batch_done(w, grpc_rpc_start_send(rpc, rpc));
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    grpc_rpc_t rpc;
    grpc_rpc_init(&rpc);
    for (;;) {
        /* Not started, or the event's success 0: the server is stopping. */
        if (!batch_done(w, grpc_rpc_request(&rpc, w->server, w->cq, &rpc)))
            break;
        serve_call(w, &rpc);
        grpc_rpc_release(&rpc);
    }
    grpc_rpc_release(&rpc);
    return NULL;
}

int main(int argc, char **argv)
{
    server_config_t cfg;
    server_config_load(&cfg, &VARIANT, argc, argv);
    server_capacity = cfg.threads;
    sigset_t stop = server_block_stop_signals(); /* before gRPC starts its threads */
    if (fanout_global_init() < 0)
        return 1;
    grpc_host_t *host = grpc_host_new(&cfg);
    worker_t *workers = calloc((size_t)cfg.threads, sizeof *workers);
    if (workers == NULL) {
        log_error("out of memory for %d threads", cfg.threads);
        return 1;
    }
    for (int i = 0; i < cfg.threads; i++) {
        workers[i].server = grpc_host_server(host);
        workers[i].cq = grpc_host_new_queue(host);
        workers[i].fanout = fanout_client_new(&cfg);
        if (workers[i].cq == NULL || workers[i].fanout == NULL) {
            log_error("cannot set up thread %d of %d", i + 1, cfg.threads);
            return 1;
        }
    }
    grpc_host_start(host);
    for (int i = 0; i < cfg.threads; i++) {
        int rc = pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
        if (rc != 0) {
            log_error("pthread_create (thread %d of %d): %s", i + 1, cfg.threads, strerror(rc));
            return 1;
        }
    }
    grpc_host_announce(host);

    grpc_host_run_until_stopped(host, &stop, cfg.grace_ms);
    for (int i = 0; i < cfg.threads; i++)
        (void)pthread_join(workers[i].thread, NULL);
    grpc_host_destroy(host);
    for (int i = 0; i < cfg.threads; i++) {
        grpc_host_drain_queue(workers[i].cq);
        fanout_client_free(workers[i].fanout);
    }
    free(workers);
    grpc_shutdown();
    curl_global_cleanup();
    return 0;
}
