/* The open loop in a matrix (loadgen --rate; run.sh --sweep rate=R,...):
 * a run's offered rate, and the figures of a row that only an open loop
 * has: the offered rate, the p99 from the actual send (uncorrected; the
 * row's p99_ms is the corrected one, from the planned send, which a
 * stalled server cannot hide) and the requests that were never sent.
 * A closed loop's row gets none of these members, so that a closed
 * matrix's report.json is what it was before they existed. The failed
 * --check expressions of any run become the row's flags. */
#ifndef LABREPORT_OPEN_ROW_H
#define LABREPORT_OPEN_ROW_H

#include <jansson.h>
#include <stddef.h>

#include "load.h"

/* The run's constant offered rate, requests/s (config.rate of schedule
 * "constant": its rates[0]); NaN for a closed loop, a ramp or steps. */
double lr_run_rate(const json_t *report);

/* 1 when the run was an open loop (config.load "open", or a config.rate). */
int lr_run_is_open(const json_t *report);

/* 1 when a and b are the same rate: both NaN (none), or equal within
 * rounding (a plan's 25 and a report's 25.0). */
int lr_same_rate(double a, double b);

/* 1 when two matrix rows were measured at the same point of a sweep: the
 * same concurrency and the same offered rate (or none, closed loop).
 * compare and the C and Python pairs match rows by this. */
int lr_same_point(const json_t *row_a, const json_t *row_b);

/* Into row (lr_row_json's object): when rate is a number or some run was
 * an open loop, "rate" (number or null), "p99_uncorrected_ms" and "late"
 * ({median, min, max} over the runs, or null); for every run whose checks
 * failed, a flag per failed expression. Returns 0 or -ENOMEM. */
int lr_open_loop_row(json_t *row, const lr_run_t *runs, size_t run_count, double rate);

#endif
