/* Progress while the load runs, two ways:
 * - the line: on a TTY only, one line on stderr rewritten with \r at most
 *   every LG_PROGRESS_INTERVAL_MS, cleared before the report;
 * - the file (--progress-file PATH): one line of JSON that replaces PATH
 *   about every LG_PROGRESS_FILE_INTERVAL_MS and once at the end, for a
 *   caller without a TTY (run.sh, loadgen in Docker). */
#ifndef LOADGEN_PROGRESS_H
#define LOADGEN_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct lg_progress {
    int enabled; /* stderr is a TTY */
    int shown;   /* a line is on screen */
    uint64_t last_ns;
    uint64_t last_ended;
} lg_progress_t;

void lg_progress_init(lg_progress_t *p, uint64_t start_ns);
/* Show elapsed seconds, requests ended, the rate since the last update and
 * the failures (errors, timeouts, non-2xx). */
void lg_progress_update(lg_progress_t *p, uint64_t now_ns, double elapsed_s, uint64_t ended,
                     uint64_t failed);
void lg_progress_clear(lg_progress_t *p);

/* What the progress file says (docs/REPORT.md, "The progress file"). */
typedef struct lg_progress_state {
    const char *phase;  /* "wait", "warmup", "load", "drain" or "done" */
    double elapsed_s;   /* since the load started (0 while waiting) */
    double planned_s;   /* -d; < 0: null (-n) */
    long long requests; /* -n; <= 0: null */
    uint64_t issued, done, ok, errors;
    double rps; /* completions per second over the last interval */
} lg_progress_state_t;

/* The progress file's one line of JSON, with its newline, into buf.
 * Returns its length, or -1 when cap is too small. */
int lg_progress_file_format(const lg_progress_state_t *st, char *buf, size_t cap);

/* Replace path with that line: a temporary file in path's folder, then
 * rename, so a reader sees the old line or the new one, never a part.
 * Path "-": the line is written to stderr, whole (one write).
 * Returns 0 or -errno with a message in err. */
int lg_progress_file_write(const char *path, const lg_progress_state_t *st, char *err,
                        size_t err_len);

#endif
