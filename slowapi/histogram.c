/* histogram.h's buckets: index and top value of a bucket. */
#include "histogram.h"

#include <string.h>

void histogram_reset(histogram_t *h) { memset(h, 0, sizeof *h); }

static unsigned hist_bucket_of(uint64_t value)
{
    if (value < (1u << HIST_EXACT_BITS))
        return (unsigned)value;
    if (value > HIST_MAX_VALUE)
        value = HIST_MAX_VALUE;
    unsigned magnitude = 63u - (unsigned)__builtin_clzll(value); /* >= HIST_EXACT_BITS */
    unsigned shift = magnitude - (HIST_EXACT_BITS - 1);
    unsigned sub = (unsigned)(value >> shift) - HIST_SUB_BUCKETS; /* 0..SUB-1 */
    return (1u << HIST_EXACT_BITS) + (magnitude - HIST_EXACT_BITS) * HIST_SUB_BUCKETS + sub;
}

/* The largest value that falls in bucket i. */
static uint64_t hist_bucket_top(unsigned i)
{
    if (i < (1u << HIST_EXACT_BITS))
        return i;
    unsigned above = i - (1u << HIST_EXACT_BITS);
    unsigned magnitude = HIST_EXACT_BITS + above / HIST_SUB_BUCKETS;
    unsigned shift = magnitude - (HIST_EXACT_BITS - 1);
    uint64_t sub = HIST_SUB_BUCKETS + above % HIST_SUB_BUCKETS;
    return ((sub + 1) << shift) - 1;
}

void histogram_record(histogram_t *h, uint64_t value)
{
    h->buckets[hist_bucket_of(value)]++;
    h->count++;
    if (value > h->max)
        h->max = value;
}

uint64_t histogram_value_at(const histogram_t *h, unsigned per_mille)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (h->count * per_mille + 999) / 1000;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t top = hist_bucket_top(i);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}
