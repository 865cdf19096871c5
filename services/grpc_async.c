/* grpc-async: one thread waits on one completion queue with every call in
 * flight; nothing it does blocks but the Cpu work.
 *
 * The grpc.aio analogue. A call is a small state machine driven by the
 * queue's events (on_event): the call arrives, its request is in, its
 * reply is out. An Io call hands its fan-out to the I/O thread
 * (grpc_io_thread.h: a libuv loop running the event loop's non-blocking
 * curl driver), and the loop goes on; when the last upstream call ends,
 * the I/O thread starts the reply's batch itself, and its completion comes
 * back to the loop as one more event. So every call is served at once:
 * capacity is unbounded, the ceiling c / delay. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc.h>
#include <grpc/support/time.h>

#include "fanout.h"
#include "grpc_host.h"
#include "grpc_io_thread.h"
#include "grpc_rpc.h"
#include "log.h"
#include "server.h"

/* Calls asked for ahead: a burst of new calls finds them waiting. More
 * calls than this still queue in the server until the loop asks again. */
#define CALLS_REQUESTED_AHEAD 64

static const variant_t VARIANT = {
    .name = "grpc-async",
    .model = "one thread waits on one gRPC completion queue with every call in flight; the "
             "upstream fan-out runs non-blocking on a libuv I/O thread",
    .keep_alive = 1,
    .settings = SETTINGS_GRACE,
};

enum step { STEP_ARRIVING, STEP_RECEIVING, STEP_FANOUT, STEP_SENDING };

static grpc_server *server;
static grpc_completion_queue *cq;
static grpc_io_thread_t *io;

/* Calls alive: asked for, in progress, or in a fan-out. gRPC's shutdown
 * completes once every call is answered or cancelled, but a cancelled
 * call's fan-out still runs (to UPSTREAM_TIMEOUT at most) and then starts
 * its reply's batch: the queue must outlive it. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_none = PTHREAD_COND_INITIALIZER;
static int live;

static void live_add(int n)
{
    pthread_mutex_lock(&live_lock);
    live += n;
    if (live == 0)
        pthread_cond_broadcast(&live_none);
    pthread_mutex_unlock(&live_lock);
}

static void wait_no_call_alive(void)
{
    pthread_mutex_lock(&live_lock);
    while (live > 0)
        pthread_cond_wait(&live_none, &live_lock);
    pthread_mutex_unlock(&live_lock);
}

/* From the loop or the I/O thread. */
static void finish(grpc_rpc_t *rpc)
{
    grpc_rpc_release(rpc);
    free(rpc);
    live_add(-1);
}

/* Ask for one more call. The loop asks again each time one arrives. */
static void request_call(void)
{
    grpc_rpc_t *rpc = malloc(sizeof *rpc);
    if (rpc == NULL) {
        log_error("out of memory for a call");
        return;
    }
    grpc_rpc_init(rpc);
    live_add(1);
    rpc->step = STEP_ARRIVING;
    grpc_call_error rc = grpc_rpc_request(rpc, server, cq, rpc);
    if (rc != GRPC_CALL_OK) {
        log_error("grpc_server_request_call: %s", grpc_call_error_to_string(rc));
        finish(rpc);
    }
}

/* From the loop or the I/O thread: the reply's batch; its end is the
 * call's last event. */
static void send_reply(grpc_rpc_t *rpc)
{
    rpc->step = STEP_SENDING;
    grpc_call_error rc = grpc_rpc_start_send(rpc, rpc);
    if (rc != GRPC_CALL_OK) {
        log_error("grpc_call_start_batch: %s", grpc_call_error_to_string(rc));
        finish(rpc);
    }
}

/* On the I/O thread. */
static void io_done_cb(void *arg, const fanout_result_t *result)
{
    grpc_rpc_t *rpc = arg;
    grpc_reply_io(result, &rpc->reply);
    send_reply(rpc);
}

static void serve(grpc_rpc_t *rpc)
{
    if (grpc_rpc_received(rpc) != 0) {
        send_reply(rpc); /* the error is in the reply */
        return;
    }
    if (rpc->method != GRPC_METHOD_IO) {
        grpc_reply_now(rpc->method, rpc->request, &rpc->reply);
        send_reply(rpc);
        return;
    }
    rpc->step = STEP_FANOUT;
    if (grpc_io_thread_fanout(io, io_done_cb, rpc) != 0) {
        fanout_result_t failed = {.calls = server_config->fanout, .failed = server_config->fanout};
        snprintf(failed.first_error, sizeof failed.first_error, "out of memory");
        io_done_cb(rpc, &failed);
    }
}

static void on_event(grpc_rpc_t *rpc, int success)
{
    switch (rpc->step) {
    case STEP_ARRIVING:
        if (!success) { /* the server is stopping: ask no more */
            finish(rpc);
            return;
        }
        request_call();
        rpc->step = STEP_RECEIVING;
        if (grpc_rpc_start_receive(rpc, rpc) != GRPC_CALL_OK)
            finish(rpc);
        return;
    case STEP_RECEIVING:
        if (!success) { /* the client went away */
            finish(rpc);
            return;
        }
        serve(rpc);
        return;
    case STEP_SENDING:
        finish(rpc);
        return;
    case STEP_FANOUT: /* no batch is in flight during the fan-out */
    default:
        log_error("event for a call in step %d", rpc->step);
        return;
    }
}

static void *loop_main(void *arg)
{
    (void)arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            return NULL;
        if (ev.type == GRPC_OP_COMPLETE)
            on_event(ev.tag, ev.success);
    }
}

int main(int argc, char **argv)
{
    server_config_t cfg;
    server_config_load(&cfg, &VARIANT, argc, argv);
    server_capacity = 0; /* unbounded: every call is served at once */
    sigset_t stop = server_block_stop_signals(); /* before gRPC starts its threads */
    if (fanout_global_init() < 0)
        return 1;
    grpc_host_t *host = grpc_host_new(&cfg);
    server = grpc_host_server(host);
    if ((cq = grpc_host_new_queue(host)) == NULL || (io = grpc_io_thread_start(&cfg)) == NULL)
        return 1;
    grpc_host_start(host);
    for (int i = 0; i < CALLS_REQUESTED_AHEAD; i++)
        request_call();
    pthread_t loop;
    int rc = pthread_create(&loop, NULL, loop_main, NULL);
    if (rc != 0) {
        log_error("pthread_create: %s", strerror(rc));
        return 1;
    }
    grpc_host_announce(host);

    grpc_host_run_until_stopped(host, &stop, cfg.grace_ms);
    wait_no_call_alive();
    grpc_host_destroy(host);
    grpc_completion_queue_shutdown(cq); /* the loop takes what is left, then ends */
    (void)pthread_join(loop, NULL);
    grpc_completion_queue_destroy(cq);
    grpc_io_thread_stop(io);
    grpc_shutdown();
    curl_global_cleanup();
    return 0;
}
