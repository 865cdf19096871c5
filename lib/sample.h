/* One request as loadgen saw it: when it was planned, sent and ended, and
 * how it ended. loadgen keeps one per request, derives the report's
 * percentiles, series and steps from them after the run, and writes them
 * with --samples (lib/samples_file.h) so that runs can be merged exactly
 * later and read by other tools. */
#ifndef LAB_SAMPLE_H
#define LAB_SAMPLE_H

#include <stdint.h>

/* Every request ends in exactly one bucket (docs/REPORT.md). */
enum lab_bucket {
    LAB_BUCKET_OK,         /* a 2xx response, or gRPC OK */
    LAB_BUCKET_HTTP,       /* any other status (by status) */
    LAB_BUCKET_TIMEOUT,
    LAB_BUCKET_CONNECT,
    LAB_BUCKET_READ,
    LAB_BUCKET_WRITE,
    LAB_BUCKET_PARSE,
    LAB_BUCKET_UNFINISHED, /* in flight when the drain ended */
    LAB_BUCKET_LATE,       /* open loop: planned, never sent by the load's end */
    LAB_BUCKET_COUNT,
};

/* Times in ns since the run's start (its first planned send). */
typedef struct lab_sample {
    int64_t planned_ns; /* the planned send (closed loop: the send) */
    int64_t sent_ns;    /* -1: never sent (late) */
    int64_t end_ns;     /* the response's last byte, the error, the timeout or
                         * the drain's cut; -1 when never sent */
    uint16_t status;    /* HTTP status or gRPC code of a response, else 0 */
    uint8_t bucket;     /* enum lab_bucket */
    uint8_t warmup;     /* planned (open loop) or sent (closed) in the warm-up */
} lab_sample_t;

/* "ok", "http", "timeout", "connect", "read", "write", "parse",
 * "unfinished", "late"; NULL for a value out of range. */
const char *lab_bucket_name(int bucket);
/* The bucket of a name, or -1. */
int lab_bucket_parse(const char *name);

/* A response (ok or http) has latencies: corrected counts from the planned
 * send (what a user who wanted to send then waited), uncorrected from the
 * actual send. */
static inline int lab_sample_is_response(const lab_sample_t *s)
{
    return s->bucket == LAB_BUCKET_OK || s->bucket == LAB_BUCKET_HTTP;
}
static inline int64_t lab_sample_corrected_ns(const lab_sample_t *s)
{
    return s->end_ns - s->planned_ns;
}
static inline int64_t lab_sample_uncorrected_ns(const lab_sample_t *s)
{
    return s->end_ns - s->sent_ns;
}

#endif
