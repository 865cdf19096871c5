#include "run.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "grpc_worker.h"
#include "http_worker.h"
#include "log.h"
#include "phase.h"
#include "progress.h"
#include "stats.h"
#include "schedule.h"
#include "slow_clients.h"
#include "url.h"

/* The two transports: HTTP/1.1 (http_worker.c) and, with --grpc, gRPC
 * (grpc_worker.c). Each embeds the same lg_worker_t, all lg_run_load sees. */
typedef struct worker_ops {
    lg_worker_t *(*create)(lg_run_t *run, int index, size_t conns, char *err, size_t err_len);
    void (*destroy)(lg_worker_t *w);
    int (*start)(lg_worker_t *w);
    int (*join)(lg_worker_t *w);
} worker_ops_t;

static const worker_ops_t http_workers = {lg_http_worker_new, lg_http_worker_free,
                                          lg_http_worker_start, lg_http_worker_join};
static const worker_ops_t grpc_workers = {lg_grpc_worker_new, lg_grpc_worker_free,
                                          lg_grpc_worker_start, lg_grpc_worker_join};

void lg_run_stop(lg_run_t *run, int level, uint64_t now_ns)
{
    uint64_t deadline = level >= 2 ? now_ns : now_ns + (uint64_t)(run->cfg->drain_s * 1e9);
    /* Only the main thread stores: load-compare-store is enough. The
     * release on stop_level publishes the deadline with it. */
    uint64_t old = atomic_load_explicit(&run->drain_deadline_ns, memory_order_relaxed);
    if (deadline < old)
        atomic_store_explicit(&run->drain_deadline_ns, deadline, memory_order_relaxed);
    atomic_store_explicit(&run->stop_level, level, memory_order_release);
    uint64_t one = 1;
    if (write(run->wake_fd, &one, sizeof one) != (ssize_t)sizeof one)
        log_error("write(eventfd): %s", strerror(errno));
}

/* The progress file's writer (--progress-file), in the main thread. */
typedef struct run_file {
    const char *path; /* NULL: no file */
    uint64_t last_ns; /* the last write */
    uint64_t rate_ns; /* where the rate's interval starts */
    uint64_t rate_done;
    double rps;
    int rated;  /* rps has been measured once */
    int warned; /* a failed write is said once */
} run_file_t;

/* The workers' progress counters, summed. */
static void run_tally(lg_worker_t **workers, long threads, lg_progress_state_t *st)
{
    st->issued = st->done = st->ok = st->errors = 0;
    for (long i = 0; i < threads; i++) {
        lg_worker_t *w = workers[i];
        st->issued += atomic_load_explicit(&w->progress_issued, memory_order_relaxed);
        st->done += atomic_load_explicit(&w->progress_ended, memory_order_relaxed);
        st->ok += atomic_load_explicit(&w->progress_ok, memory_order_relaxed);
        st->errors += atomic_load_explicit(&w->progress_failed, memory_order_relaxed);
    }
}

/* Replace the progress file with the run's state at now, in phase. */
static void run_file_write(run_file_t *pf, const lg_run_t *run, lg_worker_t **workers,
                           long threads, const char *phase, uint64_t now)
{
    const lg_config_t *cfg = run->cfg;
    lg_progress_state_t st = {
        .phase = phase,
        .elapsed_s = (double)(now - run->start_ns) / 1e9,
        .planned_s = cfg->requests > 0 ? -1 : cfg->duration_s,
        .requests = cfg->requests,
    };
    run_tally(workers, threads, &st);
    /* The rate over the last second: a write sooner than half an interval
     * after the last rate (the "done" one, just after a tick) keeps that
     * rate rather than divide a few completions by a few milliseconds;
     * a run shorter than that has only its own. */
    uint64_t interval_ns = now - pf->rate_ns;
    if (interval_ns > 0 &&
        (interval_ns >= (uint64_t)LG_PROGRESS_FILE_INTERVAL_MS * NS_PER_MS / 2 || !pf->rated)) {
        pf->rps = (double)(st.done - pf->rate_done) * 1e9 / (double)interval_ns;
        pf->rate_ns = now;
        pf->rate_done = st.done;
        pf->rated = 1;
    }
    st.rps = pf->rps;
    pf->last_ns = now;
    char err[LG_ERR_MAX];
    if (lg_progress_file_write(pf->path, &st, err, sizeof err) < 0 && !pf->warned) {
        log_warn("--progress-file: %s (the run goes on)", err);
        pf->warned = 1;
    }
}

/* How long the main thread may sleep: until the next progress line or
 * file is due, or for good (-1) when neither is shown. */
static int run_wait_ms(const lg_progress_t *progress, const run_file_t *pf, uint64_t now)
{
    int ms = progress->enabled ? LG_PROGRESS_INTERVAL_MS : -1;
    if (pf->path == NULL)
        return ms;
    uint64_t due = pf->last_ns + (uint64_t)LG_PROGRESS_FILE_INTERVAL_MS * NS_PER_MS;
    int file_ms = due > now ? (int)((due - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
    return ms < 0 || file_ms < ms ? file_ms : ms;
}

/* A stop signal: level 1 starts the drain, level 2 ends it. */
static void run_signal(lg_run_t *run, int sig_fd, int *stop_level, lg_progress_t *progress)
{
    struct signalfd_siginfo si;
    if (read(sig_fd, &si, sizeof si) != (ssize_t)sizeof si || *stop_level >= 2)
        return;
    (*stop_level)++;
    lg_run_stop(run, *stop_level, clock_now_ns());
    lg_progress_clear(progress);
    fprintf(stderr, "loadgen: %s: %s\n", strsignal((int)si.ssi_signo),
            *stop_level == 1 ? "no new requests, draining (again: end the drain)"
                             : "ending the drain");
}

/* The progress line and file, each when due. */
static void run_show(lg_run_t *run, lg_worker_t **workers, long threads, lg_progress_t *progress,
                     run_file_t *pf)
{
    uint64_t now = clock_now_ns();
    if (pf->path != NULL &&
        now - pf->last_ns >= (uint64_t)LG_PROGRESS_FILE_INTERVAL_MS * NS_PER_MS)
        run_file_write(pf, run, workers, threads, lg_phase_name(run, now), now);
    if (!progress->enabled || now - progress->last_ns < LG_PROGRESS_INTERVAL_MS * NS_PER_MS)
        return;
    lg_progress_state_t st;
    run_tally(workers, threads, &st);
    lg_progress_update(progress, now, (double)(now - run->start_ns) / 1e9, st.done, st.errors);
}

/* The main thread during the run: signals stop it, the progress line and
 * file tick, the done eventfd counts finished workers. Returns the stop
 * level. */
static int run_wait(lg_run_t *run, lg_worker_t **workers, long threads, int sig_fd,
                    run_file_t *pf)
{
    lg_progress_t progress;
    lg_progress_init(&progress, run->start_ns);
    long finished = 0;
    int stop_level = 0;
    while (finished < threads) {
        struct pollfd fds[2] = {{.fd = run->done_fd, .events = POLLIN},
                                {.fd = sig_fd, .events = POLLIN}};
        int rc = poll(fds, sig_fd >= 0 ? 2 : 1, run_wait_ms(&progress, pf, clock_now_ns()));
        if (rc < 0 && errno != EINTR) {
            log_error("poll: %s", strerror(errno));
            lg_run_stop(run, 2, clock_now_ns());
            break;
        }
        if (rc > 0 && (fds[0].revents & POLLIN)) {
            uint64_t n;
            if (read(run->done_fd, &n, sizeof n) == (ssize_t)sizeof n)
                finished += (long)n;
        }
        if (rc > 0 && sig_fd >= 0 && (fds[1].revents & POLLIN))
            run_signal(run, sig_fd, &stop_level, &progress);
        run_show(run, workers, threads, &progress, pf);
    }
    lg_progress_clear(&progress);
    return stop_level;
}

void lg_run_config_defaults(lg_config_t *cfg)
{
    *cfg = (lg_config_t){
        .connections = LG_DEFAULT_CONNECTIONS,
        .threads = 0, /* 0: the CPU count, at most the connections */
        .duration_s = LG_DEFAULT_DURATION_S,
        .timeout_s = LG_DEFAULT_TIMEOUT_S,
        .drain_s = LG_DEFAULT_DRAIN_S,
        .wait_s = -1,
        .keepalive = 1,
        .mode = "native",
        .fanout = -1,
        .delay_s = -1,
        .capacity = -1,
        .slow_interval_s = LG_SLOW_DEFAULT_INTERVAL_S,
    };
}

/* The open loop's planned requests of worker w's share, counted from the
 * plan itself (schedule.h) between the warm-up's end and the end of its
 * issuing: the workers' issued + late must add up to it. */
static uint64_t run_planned(const lg_run_t *run, const lg_worker_t *w)
{
    uint64_t from = run->warmup_end_ns - run->start_ns;
    uint64_t to = w->issuing_end_ns > run->start_ns ? w->issuing_end_ns - run->start_ns : 0;
    return lg_schedule_count_for(run->schedule, from, to, w->index, run->cfg->threads);
}

/* The workers' statistics, merged, and the measured window. */
static int run_merge(const lg_run_t *run, lg_worker_t **workers, long threads,
                     lg_run_result_t *out, char *err, size_t err_len)
{
    uint64_t finish_ns = run->start_ns;
    if (lg_stats_init(&out->stats, 0) < 0) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (long i = 0; i < threads; i++) {
        if (run->schedule != NULL)
            workers[i]->stats.buckets.planned = run_planned(run, workers[i]);
        if (lg_stats_merge(&out->stats, &workers[i]->stats) < 0) {
            snprintf(err, err_len, "out of memory merging statistics");
            lg_stats_free(&out->stats);
            return -1;
        }
        if (workers[i]->finish_ns > finish_ns)
            finish_ns = workers[i]->finish_ns;
        if (workers[i]->fatal_errno)
            log_error("worker %ld stopped early: %s", i, strerror(workers[i]->fatal_errno));
    }
    if (lg_stats_finish(&out->stats, run->start_ns) < 0) {
        snprintf(err, err_len, "out of memory sorting latencies");
        lg_stats_free(&out->stats);
        return -1;
    }
    /* The measured window: warm-up end .. load end (docs/REPORT.md). */
    out->duration_s = finish_ns > run->warmup_end_ns
                          ? (double)(finish_ns - run->warmup_end_ns) / 1e9
                          : 0;
    out->warmup_end_s = (double)(run->warmup_end_ns - run->start_ns) / 1e9;
    out->window_end_s = (double)(finish_ns - run->start_ns) / 1e9;
    return 0;
}

int lg_run_load(const lg_config_t *cfg, int sig_fd, lg_run_result_t *out, char *err, size_t err_len)
{
    char request[LG_REQUEST_MAX];
    int rc = -1;
    long threads = cfg->threads, started = 0;
    lg_worker_t **workers = NULL;
    const worker_ops_t *ops = cfg->grpc ? &grpc_workers : &http_workers;
    memset(out, 0, sizeof *out);

    int request_len = lg_url_request(&cfg->url, cfg->url.target, cfg->keepalive, request,
                                  sizeof request);
    if (request_len < 0) {
        snprintf(err, err_len, "URL too long for a request");
        return -1;
    }
    lg_run_t run = {
        .cfg = cfg,
        .request = request,
        .request_len = (size_t)request_len,
        .count_mode = cfg->requests > 0,
        .timeout_ns = (uint64_t)(cfg->timeout_s * 1e9),
        .ramp_ns = (uint64_t)(cfg->ramp_s * 1e9),
        .service_ns = cfg->service_s > 0 ? (uint64_t)(cfg->service_s * 1e9) : 0,
        .schedule = cfg->rate_text != NULL ? &cfg->schedule : NULL,
        .wake_fd = -1,
        .done_fd = -1,
    };
    atomic_init(&run.requests_left, cfg->requests);
    atomic_init(&run.stop_level, 0);
    atomic_init(&run.drain_deadline_ns, UINT64_MAX);
    run.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    run.done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (run.wake_fd < 0 || run.done_fd < 0) {
        snprintf(err, err_len, "eventfd: %s", strerror(errno));
        goto out;
    }
    workers = calloc((size_t)threads, sizeof *workers);
    if (workers == NULL) {
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    for (long i = 0; i < threads; i++) {
        /* c connections over t threads: the first c % t get one more. */
        size_t conns = (size_t)(cfg->connections / threads + (i < cfg->connections % threads));
        workers[i] = ops->create(&run, (int)i, conns, err, err_len);
        if (workers[i] == NULL)
            goto out;
    }

    out->started_at = time(NULL);
    run.start_ns = clock_now_ns();
    run.warmup_end_ns = run.start_ns + (uint64_t)(cfg->warmup_s * 1e9);
    run.load_end_ns =
        run.count_mode ? UINT64_MAX : run.start_ns + (uint64_t)(cfg->duration_s * 1e9);
    run.drain_end_ns =
        run.count_mode ? UINT64_MAX : run.load_end_ns + (uint64_t)(cfg->drain_s * 1e9);
    for (; started < threads; started++) {
        int e = ops->start(workers[started]);
        if (e != 0) {
            snprintf(err, err_len, "pthread_create: %s", strerror(e));
            lg_run_stop(&run, 2, clock_now_ns());
            break;
        }
    }
    run_file_t pf = {.path = cfg->progress_path, .last_ns = run.start_ns,
                     .rate_ns = run.start_ns};
    if (pf.path != NULL && started == threads)
        run_file_write(&pf, &run, workers, threads, lg_phase_name(&run, run.start_ns),
                       run.start_ns);
    if (started == threads)
        out->stop_level = run_wait(&run, workers, threads, sig_fd, &pf);
    for (long i = 0; i < started; i++) {
        int e = ops->join(workers[i]);
        if (e != 0)
            log_error("pthread_join: %s", strerror(e));
    }
    if (pf.path != NULL)
        run_file_write(&pf, &run, workers, started, "done", clock_now_ns());
    if (started < threads)
        goto out;

    if (run_merge(&run, workers, threads, out, err, err_len) < 0)
        goto out;
    rc = 0;
out:
    for (long i = 0; workers != NULL && i < threads; i++)
        ops->destroy(workers[i]);
    free(workers);
    if (run.wake_fd >= 0)
        (void)close(run.wake_fd);
    if (run.done_fd >= 0)
        (void)close(run.done_fd);
    return rc;
}
