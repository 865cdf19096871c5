/* Non-blocking fan-out: FANOUT calls of the lab's own upstream client
 * (upstream.c) on a libuv loop, and one verdict when the last has ended.
 *
 * A job is one allocation: its calls live in it. Every job has the same
 * timeout, so their deadlines come in the order they started: the jobs in
 * flight are a list, oldest first, and one timer for the oldest deadline
 * serves all of them (a timer per job or per call would be a heap
 * operation each; curl kept one per transfer). When it fires, every job
 * past its deadline cancels its calls still in flight, counts them timed
 * out and is answered; the timer is then armed for the next oldest.
 *
 * With SLOW_API_PORTS=N there is a client per port, and call i of a job
 * goes to client (first + i) mod N, first turning with every job: the
 * connections spread evenly over the ports whatever FANOUT is.
 *
 * This driver used libcurl's multi interface until issue 12: the same
 * calls cost about 0.65 ms of server CPU per request at c=1000, half of
 * the user-space part inside libcurl and its mallocs (docs/PERFORMANCE.md
 * has the profiles, before and after). */
#include "fanout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "upstream.h"

typedef struct fanout_job_s fanout_job_t;

struct fanout_job_s {
    fanout_loop_t *fl;
    fanout_done_cb done;
    void *arg;
    int pending;
    int first_up;      /* the client of calls[0] */
    uint64_t start_ns;
    uint64_t deadline_ns;
    fanout_result_t res;
    fanout_job_t *prev, *next; /* in flight, oldest first */
    upstream_call_t calls[];
};

struct fanout_loop_s {
    uv_loop_t *loop;
    const server_config_t *cfg;
    upstream_t *up[SERVER_UPSTREAM_PORTS_MAX]; /* one a port */
    int ups, next_up;
    uv_timer_t deadline;  /* the oldest job's, or later */
    fanout_job_t *oldest, *newest;
    uv_idle_t close_soon; /* runs fanout_loop_close on the loop's next turn */
    int open_handles;     /* the upstream client and our handles, until closed */
};

/* ---- the jobs in flight ---- */

static void job_unlink(fanout_loop_t *fl, fanout_job_t *job)
{
    if (job->prev != NULL)
        job->prev->next = job->next;
    else
        fl->oldest = job->next;
    if (job->next != NULL)
        job->next->prev = job->prev;
    else
        fl->newest = job->prev;
}

static void job_finish(fanout_job_t *job)
{
    job_unlink(job->fl, job);
    job->res.elapsed_ns = clock_now_ns() - job->start_ns;
    job->done(job->arg, &job->res);
    free(job);
}

static void record_error(fanout_result_t *res, const char *why)
{
    if (res->first_error[0] != '\0')
        return;
    snprintf(res->first_error, sizeof res->first_error, "%s", why);
    log_debug("upstream call failed: %s", why);
}

static void call_done_cb(upstream_call_t *call)
{
    fanout_job_t *job = call->data;
    fanout_result_t *res = &job->res;
    char why[sizeof res->first_error];
    if (call->status >= 200 && call->status < 300) {
        res->ok++;
    } else {
        res->failed++;
        if (call->status > 0)
            snprintf(why, sizeof why, "upstream answered %d", call->status);
        else if (call->error_errno != 0)
            snprintf(why, sizeof why, "%s: %s", call->error, strerror(call->error_errno));
        else
            snprintf(why, sizeof why, "%s", call->error);
        record_error(res, why);
    }
    if (--job->pending == 0)
        job_finish(job);
}

/* ---- deadlines ---- */

static void deadline_cb(uv_timer_t *timer);

static void arm_deadline(fanout_loop_t *fl)
{
    if (fl->oldest == NULL || uv_is_active((uv_handle_t *)&fl->deadline))
        return;
    /* The loop's clock is read once per turn and counts whole ms: the
     * deadline is kept on ours, and the timer rounded up to it. */
    uint64_t now = clock_now_ns(), due = fl->oldest->deadline_ns;
    uint64_t wait_ms = due > now ? (due - now + 999999) / 1000000 : 0;
    if (uv_timer_start(&fl->deadline, deadline_cb, wait_ms, 0) != 0)
        log_error("cannot arm the upstream timeout");
}

/* The client of call i of a job. */
static upstream_t *job_client(const fanout_job_t *job, int i)
{
    return job->fl->up[(job->first_up + i) % job->fl->ups];
}

/* Cancel the calls still in flight, count them timed out, answer. */
static void job_expire(fanout_job_t *job)
{
    char why[64];
    snprintf(why, sizeof why, "upstream timeout after %ld ms", job->fl->cfg->upstream_timeout_ms);
    for (int i = 0; i < job->res.calls; i++) {
        upstream_call_t *call = &job->calls[i];
        if (call->done == NULL)
            continue; /* ended */
        upstream_cancel(job_client(job, i), call);
        job->res.timed_out++;
    }
    record_error(&job->res, why);
    job_finish(job);
}

static void deadline_cb(uv_timer_t *timer)
{
    fanout_loop_t *fl = timer->data;
    uint64_t now = clock_now_ns();
    while (fl->oldest != NULL && fl->oldest->deadline_ns <= now)
        job_expire(fl->oldest);
    arm_deadline(fl);
}

/* A call that ended: done is cleared so that expiry skips it. */
static void call_ended_cb(upstream_call_t *call)
{
    call->done = NULL;
    call_done_cb(call);
}

/* ---- the driver ---- */

static void release(fanout_loop_t *fl);
static void upstream_closed_cb(void *arg) { release(arg); }

/* Close the clients made so far (none has a call): a failed start. */
static void close_clients(fanout_loop_t *fl)
{
    fl->open_handles = fl->ups + 1;
    for (int i = 0; i < fl->ups; i++)
        upstream_close(fl->up[i], upstream_closed_cb, fl);
    release(fl);
}

fanout_loop_t *fanout_loop_new(uv_loop_t *loop, const server_config_t *cfg)
{
    fanout_loop_t *fl = calloc(1, sizeof *fl);
    if (fl == NULL)
        return NULL;
    fl->loop = loop;
    fl->cfg = cfg;
    for (; fl->ups < cfg->slow_api_ports; fl->ups++) {
        if ((fl->up[fl->ups] = upstream_new(loop, cfg, fl->ups)) == NULL) {
            close_clients(fl);
            return NULL;
        }
    }
    (void)uv_timer_init(loop, &fl->deadline); /* cannot fail */
    (void)uv_idle_init(loop, &fl->close_soon);
    fl->deadline.data = fl->close_soon.data = fl;
    return fl;
}

int fanout_loop_start(fanout_loop_t *fl, fanout_done_cb done, void *arg)
{
    int n = fl->cfg->fanout;
    fanout_job_t *job = calloc(1, sizeof *job + (size_t)n * sizeof job->calls[0]);
    if (job == NULL)
        return -1;
    job->fl = fl;
    job->done = done;
    job->arg = arg;
    job->pending = n;
    job->first_up = fl->next_up;
    fl->next_up = (fl->next_up + 1) % fl->ups;
    job->start_ns = clock_now_ns();
    job->deadline_ns = job->start_ns + (uint64_t)fl->cfg->upstream_timeout_ms * 1000000u;
    job->res.calls = n;
    job->prev = fl->newest;
    if (fl->newest != NULL)
        fl->newest->next = job;
    else
        fl->oldest = job;
    fl->newest = job;
    arm_deadline(fl);
    /* Calls end from the loop, never in upstream_start: job stays whole. */
    for (int i = 0; i < n; i++) {
        job->calls[i].done = call_ended_cb;
        job->calls[i].data = job;
        upstream_start(job_client(job, i), &job->calls[i]);
    }
    return 0;
}

static void release(fanout_loop_t *fl)
{
    if (--fl->open_handles == 0)
        free(fl);
}

static void handle_closed_cb(uv_handle_t *handle) { release(handle->data); }

void fanout_loop_close(fanout_loop_t *fl)
{
    fl->open_handles = fl->ups + 2;
    for (int i = 0; i < fl->ups; i++)
        upstream_close(fl->up[i], upstream_closed_cb, fl);
    uv_close((uv_handle_t *)&fl->deadline, handle_closed_cb);
    uv_close((uv_handle_t *)&fl->close_soon, handle_closed_cb);
}

static void close_soon_cb(uv_idle_t *idle)
{
    fanout_loop_close(idle->data);
}

void fanout_loop_close_soon(fanout_loop_t *fl)
{
    if (!uv_is_active((uv_handle_t *)&fl->close_soon) &&
        uv_idle_start(&fl->close_soon, close_soon_cb) != 0)
        log_error("cannot schedule the upstream driver's close");
}
