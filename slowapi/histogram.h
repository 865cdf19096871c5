/* A log-linear histogram of non-negative integers (slowapi: lateness in
 * microseconds) in fixed memory, after HdrHistogram's layout: values below
 * 2^HIST_EXACT_BITS have a bucket each; above, every power of two is cut
 * into 2^(HIST_EXACT_BITS-1) equal buckets, so a bucket is at most 1/1024
 * of its values wide and a percentile read back as its bucket's top is at
 * most 0.1% above the true one (never below). Values above HIST_MAX_VALUE
 * count in the last bucket; max is exact. */
#ifndef SLOWAPI_HISTOGRAM_H
#define SLOWAPI_HISTOGRAM_H

#include <stdint.h>

#define HIST_EXACT_BITS 11 /* values 0..2047 exact: 1 us up to 2 ms */
#define HIST_TOP_BITS 27   /* 2^27 us = 134 s, past the longest delay */
#define HIST_SUB_BUCKETS (1u << (HIST_EXACT_BITS - 1))
#define HIST_BUCKETS ((1u << HIST_EXACT_BITS) + (HIST_TOP_BITS - HIST_EXACT_BITS) * HIST_SUB_BUCKETS)
#define HIST_MAX_VALUE ((UINT64_C(1) << HIST_TOP_BITS) - 1)

typedef struct {
    uint64_t count;
    uint64_t max;
    uint64_t buckets[HIST_BUCKETS]; /* 144 KiB */
} histogram_t;

void histogram_reset(histogram_t *h);
void histogram_record(histogram_t *h, uint64_t value);

/* The value at per_mille (500 = median, 990 = p99, 999 = p99.9) by nearest
 * rank: the top of the bucket holding the ceil(count*per_mille/1000)-th
 * smallest value, at most max. 0 when empty. */
uint64_t histogram_value_at(const histogram_t *h, unsigned per_mille);

#endif
