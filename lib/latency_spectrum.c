/* The percentile spectrum (latency_spectrum.h). The ticks are computed
 * from integers, not by adding steps: level L (the L-th halving of the
 * distance to 100%) holds p = 1 - (10 - j) / (10 * 2^L), j = 0 .. 4, and
 * its rank's complement, floor(n * (10 - j) / (10 * 2^L)), is integer
 * arithmetic, so 0.1 * 10 samples is rank 1 exactly, never 2 by a
 * rounding of 0.1 + 0.1 + ... */
#include "latency_spectrum.h"

/* Ticks per level: j = 0 .. 4 at steps of a tenth of the level's span
 * (2^-L), i.e. half the distance in 5 ticks. */
#define LS_TENTHS 10

/* The samples above the tick's nearest rank: floor(n * (10 - j) / 10 / 2^L),
 * as n - ceil(n * j / 10) first (n * j cannot overflow: n values fit in
 * memory, so n < SIZE_MAX / 8), then the shift. */
static uint64_t ls_beyond(uint64_t n, unsigned level, unsigned j)
{
    uint64_t tenths = n - (n * j + LS_TENTHS - 1) / LS_TENTHS;
    return level < 64 ? tenths >> level : 0;
}

/* The tick's percentile, one correctly rounded division of two integers
 * that doubles hold exactly (1 - 0.9 would give 0.09999999999999998). */
static double ls_percentile(unsigned level, unsigned j)
{
    double span = LS_TENTHS * (double)((uint64_t)1 << level);
    return (span - (LS_TENTHS - j)) / span;
}

size_t latency_spectrum_rows(const uint64_t *sorted, size_t n, latency_spectrum_row_t *rows,
                             size_t cap)
{
    if (n == 0)
        return 0;
    size_t count = 0;
    /* Tick t is j = t % 5 of level t / 5; at level 64 every rank is n. */
    for (unsigned t = 0;; t++) {
        unsigned level = t / LATENCY_SPECTRUM_TICKS_PER_HALF;
        unsigned j = t % LATENCY_SPECTRUM_TICKS_PER_HALF;
        uint64_t rank = n - ls_beyond(n, level, j);
        rank = rank ? rank : 1; /* p = 0: the first sample */
        if (rank >= n)
            break;
        if (count < cap)
            rows[count] = (latency_spectrum_row_t){ls_percentile(level, j), sorted[rank - 1], rank};
        count++;
    }
    if (count < cap)
        rows[count] = (latency_spectrum_row_t){1.0, sorted[n - 1], n};
    return count + 1;
}
