/* The percentile spectrum of a set of latencies, in the rows wrk2's
 * --latency prints as its "Detailed Percentile spectrum" (HdrHistogram's
 * percentile distribution): a row at each tick of the percentile, 5 ticks
 * per halving of the distance to 100% (0, 0.1 ... 0.4, then 0.5, 0.55 ...
 * 0.7, then 0.75, 0.775 ...), so the tail gets as many rows as the body.
 * Unlike HdrHistogram's, the values are exact: each row is the sample at
 * the tick's nearest rank. The report's "latency_spectrum" (docs/REPORT.md)
 * is these rows, in ms. */
#ifndef LAB_LATENCY_SPECTRUM_H
#define LAB_LATENCY_SPECTRUM_H

#include <stddef.h>
#include <stdint.h>

/* Ticks per halving of the distance to 100%, as wrk2 asks HdrHistogram. */
#define LATENCY_SPECTRUM_TICKS_PER_HALF 5
/* The most rows any n can give: 5 per halving, while n >> level > 0 (at
 * most 64 levels for a 64-bit count), and the last row. */
#define LATENCY_SPECTRUM_ROWS_MAX (LATENCY_SPECTRUM_TICKS_PER_HALF * 64 + 1)

typedef struct latency_spectrum_row {
    double percentile; /* 0 .. 1; the last row's is exactly 1 */
    uint64_t value;    /* the sample at the nearest rank (the caller's unit) */
    uint64_t count;    /* that rank, 1 .. n: the samples <= value in rank order */
} latency_spectrum_row_t;

/* The rows of sorted (n ascending values, n > 0): one per tick p whose
 * nearest rank, max(1, ceil(p * n)), is below n, then the row
 * {1.0, sorted[n - 1], n}. Writes the first min(count, cap) rows to rows
 * and returns count, as snprintf does (with cap 0, rows and sorted may be
 * NULL: it only counts); 0 when n is 0. n < SIZE_MAX / 8, as n values in
 * memory are. */
size_t latency_spectrum_rows(const uint64_t *sorted, size_t n, latency_spectrum_row_t *rows,
                             size_t cap);

#endif
