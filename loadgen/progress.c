#include "progress.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "clock.h"

void lg_progress_init(lg_progress_t *p, uint64_t start_ns)
{
    p->enabled = isatty(STDERR_FILENO);
    p->shown = 0;
    p->last_ns = start_ns;
    p->last_ended = 0;
}

static void progress_write(const char *line, int len)
{
    if (len <= 0)
        return;
    /* A lost progress line has no one to be reported to. */
    ssize_t w = write(STDERR_FILENO, line, (size_t)len);
    (void)w;
}

void lg_progress_update(lg_progress_t *p, uint64_t now_ns, double elapsed_s, uint64_t ended,
                     uint64_t failed)
{
    if (!p->enabled || now_ns <= p->last_ns)
        return;
    double rate = (double)(ended - p->last_ended) * 1e9 / (double)(now_ns - p->last_ns);
    p->last_ns = now_ns;
    p->last_ended = ended;
    char line[160];
    /* \033[K clears what a longer previous line left. */
    int n = snprintf(line, sizeof line, "\r%8.1f s  done %llu  rps %.1f  errors %llu\033[K",
                     elapsed_s, (unsigned long long)ended, rate, (unsigned long long)failed);
    if (n >= (int)sizeof line)
        n = (int)sizeof line - 1;
    progress_write(line, n);
    p->shown = 1;
}

void lg_progress_clear(lg_progress_t *p)
{
    if (!p->shown)
        return;
    static const char clear[] = "\r\033[K";
    progress_write(clear, (int)sizeof clear - 1);
    p->shown = 0;
}

/* Numbers with one decimal; JSON has no NaN or infinity. */
static double progress_finite(double v) { return isfinite(v) ? v : 0; }

int lg_progress_file_format(const lg_progress_state_t *st, char *buf, size_t cap)
{
    char planned[32] = "null", requests[32] = "null";
    if (st->planned_s >= 0)
        snprintf(planned, sizeof planned, "%.1f", progress_finite(st->planned_s));
    if (st->requests > 0)
        snprintf(requests, sizeof requests, "%lld", st->requests);
    int n = snprintf(buf, cap,
                     "{\"phase\":\"%s\",\"elapsed_s\":%.1f,\"planned_s\":%s,\"requests\":%s,"
                     "\"issued\":%llu,\"done\":%llu,\"ok\":%llu,\"errors\":%llu,\"rps\":%.1f}\n",
                     st->phase, progress_finite(st->elapsed_s), planned, requests,
                     (unsigned long long)st->issued, (unsigned long long)st->done,
                     (unsigned long long)st->ok, (unsigned long long)st->errors,
                     progress_finite(st->rps));
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int lg_progress_file_write(const char *path, const lg_progress_state_t *st, char *err,
                        size_t err_len)
{
    char line[512];
    if (lg_progress_file_format(st, line, sizeof line) < 0) {
        snprintf(err, err_len, "progress line too long");
        return -ENOSPC;
    }
    if (strcmp(path, "-") == 0) {
        /* A line on stderr: a container's log carries it where no file is
         * shared (run.sh --swarm follows the loadgen tasks' logs). */
        size_t len = strlen(line);
        ssize_t w = write(STDERR_FILENO, line, len);
        if (w != (ssize_t)len) {
            int e = w < 0 ? errno : EIO;
            snprintf(err, err_len, "stderr: %s", w < 0 ? strerror(e) : "short write");
            return -e;
        }
        return 0;
    }
    /* Not flushed to disk: a reader polls it while loadgen runs, and a
     * crash leaves nothing worth keeping. */
    return afile_replace(path, line, 0, err, err_len);
}
