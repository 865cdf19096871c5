/* --upstream: a check of the work done, as TechEmpower's verify phase
 * checks a framework before any load. slowapi counts the delayed answers
 * it writes (GET /stats, "calls_total", never reset); read before the load
 * and after the drain, the difference per request answered is the number
 * of upstream calls each request made, which the workload fixes: the
 * fan-out for io, none for cpu. A server that skipped or repeated calls
 * shows here, whatever its latency looks like. */
#ifndef LOADGEN_VERIFY_H
#define LOADGEN_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "loadgen.h"

#define LG_VERIFY_NOTE_MAX 512
/* ok when calls per answer is within max(expected, 1) / this of expected
 * (1%). */
#define LG_VERIFY_TOLERANCE_DIV 100

typedef struct lg_verify {
    int counted;              /* both reads succeeded: upstream_calls is known */
    long long upstream_calls; /* calls_total after the drain - before the load */
    long long calls_before, calls_after; /* the readings themselves (when counted) */
    uint64_t answered;        /* responses (ok + http errors), warm-up included */
    long long expected;       /* calls per request; < 0: unknown */
    double calls_per_answer;  /* < 0: none (not counted, or nothing answered) */
    const char *verdict;      /* "ok", "short", "over" or "n/a" */
    char note[LG_VERIFY_NOTE_MAX]; /* "" for none */
} lg_verify_t;

/* slowapi's calls_total, from GET <url's path>/stats within
 * LG_UPSTREAM_TIMEOUT_MS (url resolved). Returns 0, or -errno with a
 * message in err: -ENOENT when the answer has no calls_total (a slowapi
 * without the counter). */
int lg_verify_read_calls(const lg_url_t *url, long long *calls, char *err, size_t err_len);

/* One reading of the counter: ok, or why not ("before the load: ..."). */
typedef struct lg_verify_reading {
    int ok;
    long long calls;
    char why[LG_VERIFY_NOTE_MAX / 2];
} lg_verify_reading_t;

/* lg_verify_read_calls into r; when names the moment for the note. */
void lg_verify_read(const lg_url_t *url, const char *when, lg_verify_reading_t *r);

/* The upstream calls one request of the workload makes: fanout for io
 * (-1 when not given), 0 for cpu, -1 for any other workload. */
long long lg_verify_expected(const char *workload, long fanout);

/* The check from the readings before the load and after the drain: v's
 * counted and upstream_calls, then lg_verify_judge. A counter that went
 * back (slowapi restarted) counts as unread. */
void lg_verify_make(lg_verify_t *v, const lg_verify_reading_t *before,
                    const lg_verify_reading_t *after, uint64_t answered, long long expected,
                    uint64_t not_answered);

/* Judge v from its counts (counted, upstream_calls, answered, expected
 * set by the caller): calls_per_answer, verdict and note. unread: why the
 * counter could not be read (when counted is 0). not_answered: requests
 * that failed or were cut off (timeouts, connection errors, HTTP errors,
 * unfinished), which the note names because they make the ratio drift: a
 * request that timed out or was cut off made its calls without being
 * answered, and an error answer may follow fewer calls. */
void lg_verify_judge(lg_verify_t *v, const char *unread, uint64_t not_answered);

#endif
