/* One run: start the worker threads, wait for them (stop signals, the
 * progress line), merge their statistics. */
#ifndef LOADGEN_RUN_H
#define LOADGEN_RUN_H

#include <stddef.h>
#include <time.h>

#include "loadgen.h"

typedef struct lg_run_result {
    lg_stats_t stats;    /* every thread merged, finished (lg_stats_finish) */
    double duration_s;   /* the window: warm-up end to load end (-n: last end) */
    double warmup_end_s; /* the window's edges, in s after the start */
    double window_end_s;
    time_t started_at;   /* wall clock when the load started */
    int stop_level;      /* > 0: a signal stopped the load */
} lg_run_result_t;

/* The defaults of every setting, as `loadgen` with no flags has them. */
void lg_run_config_defaults(lg_config_t *cfg);

/* Run the load cfg describes (cfg->url resolved). sig_fd: a signalfd for
 * SIGINT/SIGTERM, or -1. With cfg->progress_path, the progress file is
 * written as the load starts, about every second, and with phase "done"
 * once the workers have ended. Returns 0 (out->stats to be freed with
 * lg_stats_free) or -1 with a message in err. */
int lg_run_load(const lg_config_t *cfg, int sig_fd, lg_run_result_t *out, char *err,
                size_t err_len);

/* Stop the run: level 1 stops issuing and starts the drain (bounded by
 * drain_s from now), level 2 ends the drain at once. */
void lg_run_stop(lg_run_t *run, int level, uint64_t now_ns);

#endif
