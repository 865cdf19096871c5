/* One thread's clients over gRPC (grpc_worker.h). Each client issues a
 * unary call with every op in one batch and, when its completion comes
 * back on the thread's queue, records it; then, in the closed loop, it
 * issues the next, and in the open loop (--rate) it waits on the free
 * stack until the plan has a call due (open_loop.h).
 *
 * How a call ends, in the buckets of docs/REPORT.md:
 *   OK                              ok (latency sample)
 *   DEADLINE_EXCEEDED at --timeout  timeout (gRPC's own deadline ended it)
 *   UNAVAILABLE, no initial metadata  connection error "connect": no server
 *                                   answered (the lab's servers send their
 *                                   initial metadata first, so a status
 *                                   they send comes after some)
 *   any other status                its own bucket, by code, in http_errors
 *                                   (latency sample), as HTTP statuses are
 *   in flight at the drain's end    unfinished (the call is cancelled)
 * The status codes of the report are gRPC's (14 is UNAVAILABLE). */
#include "grpc_worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "grpc_client.h"
#include "log.h"
#include "open_loop.h"
#include "phase.h"
#include "stats.h"

/* How often a worker looks at the stop flag while no call ends: the HTTP
 * worker is woken by an eventfd, a completion queue cannot watch one. */
#define GRPC_STOP_POLL_NS (50 * NS_PER_MS)
/* A DEADLINE_EXCEEDED that came this close to --timeout is the client's. */
#define GRPC_DEADLINE_SLACK_NS NS_PER_MS
#define GRPC_HTTP_OK 200 /* how lg_stats_end counts an ok response */

enum call_state { CALL_IDLE, CALL_IN_FLIGHT, CALL_WAITING };

typedef struct gcall {
    struct grpc_worker *w;
    enum call_state state;
    grpc_call *call;
    grpc_byte_buffer *send;
    grpc_byte_buffer *recv;
    grpc_metadata_array initial, trailing;
    grpc_status_code status;
    grpc_slice details;
    lg_req_t req;
    uint64_t retry_ns; /* CALL_WAITING: when to issue (connect backoff, --ramp) */
    int cancelled; /* by us, at the drain's end */
} gcall_t;

typedef struct grpc_worker {
    lg_worker_t base; /* first: run.c sees only this */
    grpc_channel *channel;
    grpc_completion_queue *cq;
    grpc_slice method;
    gcall_t *calls;
    size_t in_flight, waiting;
    int open;          /* --rate: the open loop */
    gcall_t **free;    /* open loop: the idle clients, a stack */
    size_t free_count;
    lg_phase_t phase;
    uint64_t last_end_ns;
} grpc_worker_t;

static grpc_worker_t *of(lg_worker_t *w) { return (grpc_worker_t *)w; }

static gpr_timespec at_ns(uint64_t t_ns)
{
    gpr_timespec ts = {.tv_sec = (int64_t)(t_ns / NS_PER_S),
                       .tv_nsec = (int32_t)(t_ns % NS_PER_S),
                       .clock_type = GPR_CLOCK_MONOTONIC};
    return ts;
}

static void call_release(gcall_t *c)
{
    if (c->call != NULL)
        grpc_call_unref(c->call);
    if (c->send != NULL)
        grpc_byte_buffer_destroy(c->send);
    if (c->recv != NULL)
        grpc_byte_buffer_destroy(c->recv);
    grpc_metadata_array_destroy(&c->initial);
    grpc_metadata_array_destroy(&c->trailing);
    grpc_slice_unref(c->details);
    c->call = NULL;
    c->send = c->recv = NULL;
    grpc_metadata_array_init(&c->initial);
    grpc_metadata_array_init(&c->trailing);
    c->details = grpc_empty_slice();
}

static void wait_until(grpc_worker_t *g, gcall_t *c, uint64_t when_ns)
{
    c->state = CALL_WAITING;
    c->retry_ns = when_ns;
    g->waiting++;
}

static void ended(grpc_worker_t *g, uint64_t now, int ok, int failed)
{
    g->last_end_ns = now;
    lg_progress_ended(&g->base, ok, failed);
}

static void call_send(grpc_worker_t *g, gcall_t *c, const lg_req_t *r)
{
    lg_run_t *run = g->base.run;
    c->req = *r;
    c->cancelled = 0;
    lg_stats_issue(&g->base.stats, r->in_warmup);
    lg_progress_issued(&g->base);
    c->call = grpc_channel_create_call(g->channel, NULL, GRPC_PROPAGATE_DEFAULTS, g->cq, g->method,
                                       NULL, at_ns(r->sent_ns + run->timeout_ns), NULL);
    c->send = grpc_raw_byte_buffer_create(NULL, 0); /* the empty request */
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = c->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &c->initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &c->recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &c->trailing;
    ops[5].data.recv_status_on_client.status = &c->status;
    ops[5].data.recv_status_on_client.status_details = &c->details;
    grpc_call_error rc = c->call == NULL ? GRPC_CALL_ERROR
                                         : grpc_call_start_batch(c->call, ops, 6, c, NULL);
    if (rc != GRPC_CALL_OK) {
        log_debug("grpc call: %s", grpc_call_error_to_string(rc));
        lg_stats_end(&g->base.stats, &c->req, LG_OUTCOME_ERR_WRITE, 0, r->sent_ns);
        ended(g, r->sent_ns, 0, 1);
        call_release(c);
        wait_until(g, c, r->sent_ns + LG_CONNECT_BACKOFF_NS);
        return;
    }
    c->state = CALL_IN_FLIGHT;
    g->in_flight++;
}

/* The closed loop: the client's next call, if the run still issues. */
static void call_issue(grpc_worker_t *g, gcall_t *c, uint64_t now)
{
    c->state = CALL_IDLE;
    if (!lg_phase_may_issue(&g->phase, g->base.run, now))
        return;
    lg_req_t r = {.planned_ns = now, .sent_ns = now, .in_warmup = now < g->base.run->warmup_end_ns};
    call_send(g, c, &r);
}

/* The open loop: the client is idle until a planned call is due. */
static void call_free(grpc_worker_t *g, gcall_t *c)
{
    c->state = CALL_IDLE;
    g->free[g->free_count++] = c;
}

/* The open loop: every due call on a free client, the last freed first. */
static void send_due(grpc_worker_t *g)
{
    uint64_t now = clock_now_ns();
    while (g->free_count > 0 && lg_plan_due(&g->base, now)) {
        if (!lg_phase_may_issue(&g->phase, g->base.run, now))
            return;
        gcall_t *c = g->free[--g->free_count];
        lg_req_t r;
        lg_plan_take(&g->base, &r, now);
        call_send(g, c, &r);
        now = clock_now_ns();
    }
}

static void call_done(grpc_worker_t *g, gcall_t *c)
{
    uint64_t now = clock_now_ns();
    uint64_t latency = now - c->req.sent_ns;
    lg_stats_t *s = &g->base.stats;
    lg_run_t *run = g->base.run;
    g->in_flight--;
    int failed = 1, ok = 0;
    uint64_t next_ns = now;
    if (c->cancelled) {
        lg_stats_end(s, &c->req, LG_OUTCOME_UNFINISHED, 0, now);
        failed = 0;
    } else if (c->status == GRPC_STATUS_OK) {
        lg_stats_end(s, &c->req, LG_OUTCOME_RESPONSE, GRPC_HTTP_OK, now);
        lg_window_count_ok(run, s, c->req.sent_ns, now);
        failed = 0;
        ok = 1;
    } else if (c->status == GRPC_STATUS_DEADLINE_EXCEEDED &&
               latency + GRPC_DEADLINE_SLACK_NS >= run->timeout_ns) {
        lg_stats_end(s, &c->req, LG_OUTCOME_TIMEOUT, 0, now);
    } else if (c->status == GRPC_STATUS_UNAVAILABLE && c->initial.count == 0) {
        if (log_enabled(LOG_DEBUG)) {
            char *d = grpc_slice_to_c_string(c->details);
            log_debug("grpc call: UNAVAILABLE before the server answered: %s", d);
            gpr_free(d);
        }
        lg_stats_end(s, &c->req, LG_OUTCOME_ERR_CONNECT, 0, now);
        next_ns = now + LG_CONNECT_BACKOFF_NS;
    } else {
        lg_stats_end(s, &c->req, LG_OUTCOME_RESPONSE, (int)c->status, now);
    }
    ended(g, now, ok, failed);
    call_release(c);
    if (c->cancelled)
        c->state = CALL_IDLE;
    else if (next_ns > now)
        wait_until(g, c, next_ns);
    else if (g->open)
        call_free(g, c);
    else
        call_issue(g, c, now);
}

/* Issue the waiting clients whose time has come; returns the earliest
 * time still ahead (UINT64_MAX: none). */
static uint64_t issue_due(grpc_worker_t *g, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    if (g->waiting == 0)
        return next;
    for (size_t i = 0; i < g->base.conn_count; i++) {
        gcall_t *c = &g->calls[i];
        if (c->state != CALL_WAITING)
            continue;
        if (!g->phase.issuing) {
            c->state = CALL_IDLE;
            g->waiting--;
        } else if (c->retry_ns <= now) {
            g->waiting--;
            if (g->open)
                call_free(g, c);
            else
                call_issue(g, c, now);
        } else if (c->retry_ns < next) {
            next = c->retry_ns;
        }
    }
    return next;
}

/* At the drain's end: cancel what is in flight and take the completions,
 * which then count as unfinished. */
static void cancel_in_flight(grpc_worker_t *g)
{
    for (size_t i = 0; i < g->base.conn_count; i++) {
        gcall_t *c = &g->calls[i];
        if (c->state == CALL_IN_FLIGHT) {
            c->cancelled = 1;
            (void)grpc_call_cancel(c->call, NULL);
        }
    }
    while (g->in_flight > 0) {
        grpc_event ev = grpc_completion_queue_next(g->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                                   NULL);
        if (ev.type == GRPC_OP_COMPLETE)
            call_done(g, ev.tag);
    }
}

/* The clients' first calls: at once, or spread over --ramp as in
 * http_worker.c (client j of thread t is the run's (j * threads + t)-th
 * and starts at ramp * that / c); the open loop frees them all. */
static void start_clients(grpc_worker_t *g)
{
    lg_run_t *run = g->base.run;
    const lg_config_t *cfg = run->cfg;
    if (g->open)
        lg_plan_start(&g->base);
    for (size_t j = 0; j < g->base.conn_count; j++) {
        uint64_t global = (uint64_t)j * (uint64_t)cfg->threads + (uint64_t)g->base.index;
        wait_until(g, &g->calls[j], run->start_ns + run->ramp_ns / (uint64_t)cfg->connections * global);
    }
}

/* When to look again without a completion: a client's wait, the load's or
 * the drain's end, the next planned call when a client is free for it,
 * and at least every GRPC_STOP_POLL_NS for a stop. */
static uint64_t next_wake(grpc_worker_t *g, uint64_t next, uint64_t now)
{
    lg_run_t *run = g->base.run;
    if (g->phase.issuing && run->load_end_ns < next)
        next = run->load_end_ns;
    if (g->phase.issuing && g->open && g->free_count > 0 && lg_plan_next_ns(&g->base) < next)
        next = lg_plan_next_ns(&g->base);
    if (!g->phase.issuing && g->phase.drain_deadline_ns < next)
        next = g->phase.drain_deadline_ns;
    if (next > now + GRPC_STOP_POLL_NS)
        next = now + GRPC_STOP_POLL_NS;
    return next;
}

static void *worker_main(void *arg)
{
    grpc_worker_t *g = arg;
    lg_run_t *run = g->base.run;
    g->phase.issuing = 1;
    g->last_end_ns = run->start_ns;
    start_clients(g);
    uint64_t now;
    for (;;) {
        now = clock_now_ns();
        lg_phase_update(&g->phase, g->base.run, now);
        uint64_t next = issue_due(g, now);
        if (g->open && g->phase.issuing)
            send_due(g);
        if (g->open && !g->phase.issuing)
            lg_plan_close(&g->base, g->phase.issuing_end_ns);
        if (!g->phase.issuing && (g->in_flight == 0 || now >= g->phase.drain_deadline_ns))
            break;
        grpc_event ev = grpc_completion_queue_next(g->cq, at_ns(next_wake(g, next, now)), NULL);
        if (ev.type == GRPC_OP_COMPLETE)
            call_done(g, ev.tag);
    }
    lg_phase_finish(&g->phase, &g->base, g->in_flight > 0, g->last_end_ns, now);
    cancel_in_flight(g);
    uint64_t one = 1;
    if (write(run->done_fd, &one, sizeof one) != (ssize_t)sizeof one)
        log_error("worker %d: write(eventfd): %s", g->base.index, strerror(errno));
    return NULL;
}

lg_worker_t *lg_grpc_worker_new(lg_run_t *run, int index, size_t conn_count, char *err,
                             size_t err_len)
{
    char method[LG_GRPC_METHOD_MAX];
    if (lg_grpc_client_method(&run->cfg->url, method, sizeof method, err, err_len) < 0)
        return NULL;
    void *mem = NULL;
    size_t size = (sizeof(grpc_worker_t) + 63) / 64 * 64;
    if (posix_memalign(&mem, 64, size) != 0) {
        snprintf(err, err_len, "worker %d: out of memory", index);
        return NULL;
    }
    grpc_worker_t *g = mem;
    memset(g, 0, sizeof *g);
    g->base.run = run;
    g->base.index = index;
    g->base.conn_count = conn_count;
    g->open = run->schedule != NULL;
    lg_progress_reset(&g->base);
    g->method = grpc_slice_from_copied_string(method);
    size_t hint = conn_count * LG_SAMPLES_PER_CONN_HINT;
    if (hint > LG_SAMPLES_RESERVE_MAX)
        hint = LG_SAMPLES_RESERVE_MAX;
    g->calls = calloc(conn_count, sizeof *g->calls);
    g->free = calloc(conn_count, sizeof *g->free);
    if (lg_stats_init(&g->base.stats, hint) < 0 || g->calls == NULL || g->free == NULL) {
        snprintf(err, err_len, "worker %d: out of memory for %zu clients", index, conn_count);
        lg_grpc_worker_free(&g->base);
        return NULL;
    }
    for (size_t i = 0; i < conn_count; i++) {
        g->calls[i].w = g;
        grpc_metadata_array_init(&g->calls[i].initial);
        grpc_metadata_array_init(&g->calls[i].trailing);
        g->calls[i].details = grpc_empty_slice();
    }
    g->cq = grpc_completion_queue_create_for_next(NULL);
    g->channel = lg_grpc_client_channel(&run->cfg->url, 1);
    if (g->cq == NULL || g->channel == NULL) {
        snprintf(err, err_len, "worker %d: cannot make a gRPC channel and queue", index);
        lg_grpc_worker_free(&g->base);
        return NULL;
    }
    return &g->base;
}

void lg_grpc_worker_free(lg_worker_t *w)
{
    if (w == NULL)
        return;
    grpc_worker_t *g = of(w);
    for (size_t i = 0; g->calls != NULL && i < w->conn_count; i++) {
        call_release(&g->calls[i]);
        grpc_metadata_array_destroy(&g->calls[i].initial);
        grpc_metadata_array_destroy(&g->calls[i].trailing);
    }
    if (g->channel != NULL)
        grpc_channel_destroy(g->channel);
    if (g->cq != NULL) {
        grpc_completion_queue_shutdown(g->cq);
        while (grpc_completion_queue_next(g->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
               GRPC_QUEUE_SHUTDOWN)
            ;
        grpc_completion_queue_destroy(g->cq);
    }
    grpc_slice_unref(g->method);
    lg_stats_free(&w->stats);
    free(g->calls);
    free(g->free);
    free(g);
}

int lg_grpc_worker_start(lg_worker_t *w)
{
    return pthread_create(&w->thread, NULL, worker_main, w);
}

int lg_grpc_worker_join(lg_worker_t *w) { return pthread_join(w->thread, NULL); }
