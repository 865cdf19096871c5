/* Median, min and max over a point's repeats: what the matrix report
 * shows for each metric. The median, because one disturbed repeat (a cold
 * cache, a neighbour on the host) moves a mean but not a median of 3; the
 * min-max spread, because with so few repeats it is the honest noise bar,
 * and compare uses it as one. */
#ifndef LABREPORT_STATS_H
#define LABREPORT_STATS_H

#include <jansson.h>
#include <stddef.h>

typedef struct lr_stat {
    double median; /* of an even count: the mean of the middle two */
    double min;
    double max;
    size_t n; /* values that were numbers; 0: all three are NaN */
} lr_stat_t;

/* Over values[0..count), skipping NaN (a field the run did not have).
 * Returns 0 or -ENOMEM. */
int lr_stat_of(const double *values, size_t count, lr_stat_t *out);

/* {"median": m, "min": a, "max": b} rounded to decimals, or null when n
 * is 0. */
json_t *lr_stat_json(const lr_stat_t *s, int decimals);
/* Back from that form; n is 1 for an object (its repeats count is the
 * row's "runs", which the caller knows), 0 for null or anything else. */
lr_stat_t lr_stat_from_json(const json_t *json);

#endif
