/* The nearest-rank percentile, the one definition of the lab's exact
 * percentiles (docs/REPORT.md): loadgen's report, its steps and series,
 * and labreport's merge of samples files all take this rank. */
#ifndef LAB_PERCENTILE_H
#define LAB_PERCENTILE_H

#include <stddef.h>
#include <stdint.h>

/* The 1-based rank of the per_mille-th percentile of n > 0 sorted values:
 * ceil(per_mille * n / 1000), at least 1. In integers, so that 99.9 of
 * 1000 values is exactly the 999th (no rounding surprise). */
static inline size_t lab_nearest_rank(size_t n, unsigned per_mille)
{
    uint64_t rank = ((uint64_t)per_mille * n + 999) / 1000;
    if (rank == 0)
        rank = 1;
    return rank > n ? n : (size_t)rank;
}

#endif
