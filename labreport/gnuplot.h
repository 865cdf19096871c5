/* Running gnuplot (from PATH) on a script to make one SVG file. The
 * script goes to a temporary file beside the chart, gnuplot's standard
 * output to another, which is renamed over the chart when gnuplot exits
 * 0: a reader never sees half a chart, and a failed run leaves the old
 * one. */
#ifndef LABREPORT_GNUPLOT_H
#define LABREPORT_GNUPLOT_H

#include <stddef.h>

#include "buf.h"

/* 1 when PATH holds an executable gnuplot: checked before drawing, so
 * that its absence is one clear message rather than a failed spawn per
 * chart. */
int lr_gnuplot_found(void);

/* s as a gnuplot double-quoted string, appended to b: quotes and
 * backslashes escaped, control characters as blanks. */
void lr_gnuplot_string(lr_buf_t *b, const char *s);

/* A number for a data block, after a blank; "NaN" (which the terminal's
 * "set datafile missing" skips) for one that is not finite. */
void lr_gnuplot_num(lr_buf_t *b, double v);

/* The lab's chart terminal: an SVG of width x height px on white, text as
 * written (no enhanced mode), '.' decimals, NaN as a missing value. */
void lr_gnuplot_svg_terminal(lr_buf_t *b, int width, int height);

/* Draw script's output into path. Returns 0, or -1 with the reason in
 * err (gnuplot's own messages go to stderr). */
int lr_gnuplot_draw(const char *path, const char *script, char *err, size_t err_len);

#endif
