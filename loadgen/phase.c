#include "phase.h"

#include <stdatomic.h>

void lg_phase_update(lg_phase_t *p, lg_run_t *run, uint64_t now)
{
    /* Acquire pairs with run_stop(): a stop level seen means its drain
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

double lg_window_share(const lg_run_t *run, uint64_t start, uint64_t end)
{
    uint64_t from = start > run->warmup_end_ns ? start : run->warmup_end_ns;
    uint64_t to = end < run->load_end_ns ? end : run->load_end_ns;
    if (to <= from)
        return 0;
    return end > start ? (double)(to - from) / (double)(end - start) : 1;
}
