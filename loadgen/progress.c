#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "clock.h"

void progress_init(lg_progress_t *p, uint64_t start_ns)
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

void progress_update(lg_progress_t *p, uint64_t now_ns, double elapsed_s, uint64_t ended,
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

void progress_clear(lg_progress_t *p)
{
    if (!p->shown)
        return;
    static const char clear[] = "\r\033[K";
    progress_write(clear, (int)sizeof clear - 1);
    p->shown = 0;
}
