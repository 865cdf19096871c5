#include "phase.h"

#include <stdatomic.h>

#include "open_loop.h"

void lg_phase_update(lg_phase_t *p, lg_run_t *run, uint64_t now)
{
    /* Acquire pairs with lg_run_stop(): a stop level seen means its drain
     * deadline is seen too. */
    int stop = atomic_load_explicit(&run->stop_level, memory_order_acquire);
    if (p->issuing && (now >= run->load_end_ns || stop > 0)) {
        p->issuing = 0;
        p->issuing_end_ns = now < run->load_end_ns ? now : run->load_end_ns;
    }
    uint64_t stop_deadline = atomic_load_explicit(&run->drain_deadline_ns, memory_order_relaxed);
    p->drain_deadline_ns = run->drain_end_ns < stop_deadline ? run->drain_end_ns : stop_deadline;
}

int lg_phase_may_issue(lg_phase_t *p, lg_run_t *run, uint64_t now)
{
    lg_phase_update(p, run, now);
    if (!p->issuing)
        return 0;
    if (run->count_mode &&
        atomic_fetch_sub_explicit(&run->requests_left, 1, memory_order_relaxed) <= 0) {
        p->issuing = 0;
        return 0;
    }
    return 1;
}

void lg_phase_finish(const lg_phase_t *p, lg_worker_t *w, int in_flight, uint64_t last_end_ns,
                     uint64_t now)
{
    w->issuing_end_ns = p->issuing ? now : p->issuing_end_ns;
    if (w->run->count_mode)
        w->finish_ns = in_flight ? now : last_end_ns;
    else
        w->finish_ns = w->issuing_end_ns;
    if (w->run->schedule != NULL)
        lg_plan_close(w, w->issuing_end_ns);
}

const char *lg_phase_name(lg_run_t *run, uint64_t now)
{
    int stopped = atomic_load_explicit(&run->stop_level, memory_order_relaxed) > 0 ||
                  now >= run->load_end_ns ||
                  (run->count_mode &&
                   atomic_load_explicit(&run->requests_left, memory_order_relaxed) <= 0);
    if (stopped)
        return "drain";
    return now < run->warmup_end_ns ? "warmup" : "load";
}

double lg_window_share(const lg_run_t *run, uint64_t start, uint64_t end)
{
    uint64_t from = start > run->warmup_end_ns ? start : run->warmup_end_ns;
    uint64_t to = end < run->load_end_ns ? end : run->load_end_ns;
    if (to <= from)
        return 0;
    return end > start ? (double)(to - from) / (double)(end - start) : 1;
}

static int window_edge_inside(uint64_t edge, uint64_t start, uint64_t end)
{
    return start < edge && edge < end;
}

void lg_window_count_ok(const lg_run_t *run, lg_stats_t *s, uint64_t start, uint64_t end)
{
    uint64_t latency = end > start ? end - start : 0;
    uint64_t service = run->service_ns > 0 && run->service_ns < latency ? run->service_ns : latency;
    s->ok_in_window += lg_window_share(run, start, end);
    s->served_in_window += lg_window_share(run, end - service, end);
    if (service < latency && (window_edge_inside(run->warmup_end_ns, start, end) ||
                              window_edge_inside(run->load_end_ns, start, end)))
        s->edge_error += (double)(latency - service) / (double)latency;
}

void lg_progress_reset(lg_worker_t *w)
{
    w->tally_issued = w->tally_ended = w->tally_ok = w->tally_failed = 0;
    atomic_init(&w->progress_issued, 0);
    atomic_init(&w->progress_ended, 0);
    atomic_init(&w->progress_ok, 0);
    atomic_init(&w->progress_failed, 0);
}

void lg_progress_issued(lg_worker_t *w)
{
    atomic_store_explicit(&w->progress_issued, ++w->tally_issued, memory_order_relaxed);
}

void lg_progress_ended(lg_worker_t *w, int ok, int failed)
{
    atomic_store_explicit(&w->progress_ended, ++w->tally_ended, memory_order_relaxed);
    if (ok)
        atomic_store_explicit(&w->progress_ok, ++w->tally_ok, memory_order_relaxed);
    if (failed)
        atomic_store_explicit(&w->progress_failed, ++w->tally_failed, memory_order_relaxed);
}
