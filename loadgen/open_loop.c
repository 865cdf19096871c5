#include "open_loop.h"

#include "schedule.h"
#include "stats.h"

static void plan_set_due(lg_worker_t *w)
{
    uint64_t offset = lg_schedule_offset_ns(w->run->schedule, w->plan.k);
    w->plan.due_ns = offset == UINT64_MAX ? UINT64_MAX : w->run->start_ns + offset;
}

void lg_plan_start(lg_worker_t *w)
{
    w->plan.k = (uint64_t)w->index;
    w->plan.stride = w->run->cfg->threads;
    plan_set_due(w);
}

void lg_plan_take(lg_worker_t *w, lg_req_t *r, uint64_t now)
{
    r->planned_ns = w->plan.due_ns;
    r->sent_ns = now;
    r->in_warmup = w->plan.due_ns < w->run->warmup_end_ns;
    w->plan.k += (uint64_t)w->plan.stride;
    plan_set_due(w);
}

void lg_plan_close(lg_worker_t *w, uint64_t end_ns)
{
    /* The cursor ends at UINT64_MAX, so a second call counts nothing. */
    while (w->plan.due_ns < end_ns) {
        lg_stats_late(&w->stats, w->plan.due_ns, w->plan.due_ns < w->run->warmup_end_ns);
        w->plan.k += (uint64_t)w->plan.stride;
        plan_set_due(w);
    }
    w->plan.due_ns = UINT64_MAX;
}
