/* The progress line: on a TTY only, one line on stderr rewritten with \r
 * at most every LG_PROGRESS_INTERVAL_MS, cleared before the report. */
#ifndef LOADGEN_PROGRESS_H
#define LOADGEN_PROGRESS_H

#include <stdint.h>

typedef struct lg_progress {
    int enabled; /* stderr is a TTY */
    int shown;   /* a line is on screen */
    uint64_t last_ns;
    uint64_t last_ended;
} lg_progress_t;

void progress_init(lg_progress_t *p, uint64_t start_ns);
/* Show elapsed seconds, requests ended, the rate since the last update and
 * the failures (errors, timeouts, non-2xx). */
void progress_update(lg_progress_t *p, uint64_t now_ns, double elapsed_s, uint64_t ended,
                     uint64_t failed);
void progress_clear(lg_progress_t *p);

#endif
