/* Numbers as the Markdown tables show them: a fixed rule per kind, so that
 * the same JSON always gives the same text, and "—" for a missing figure. */
#ifndef LABREPORT_FORMAT_H
#define LABREPORT_FORMAT_H

#include <stddef.h>

enum lr_fmt {
    LR_FMT_RPS,     /* 1990.5, 99.6, 9.97, 0.967: about 3 significant digits */
    LR_FMT_MS,      /* 1001.1, 12.25 */
    LR_FMT_RATIO,   /* 0.996 */
    LR_FMT_COUNT,   /* 3, or 2.5 for a median of an even count */
    LR_FMT_SECONDS, /* 21.78 */
    LR_FMT_CPU_MS,  /* 0.402, 7.25, 612.3 */
    LR_FMT_MIB,     /* 430.9 */
    LR_FMT_CALLS,   /* 10.00 */
    LR_FMT_PERCENT, /* 0.93 -> 93% */
    LR_FMT_FACTOR,  /* a ratio of two figures: 26.1×, 2.00×, 0.046× */
    LR_FMT_PLAIN,   /* %g: settings as given */
};

#define LR_FMT_MAX 48
#define LR_MISSING "—"

/* v formatted into out (at least LR_FMT_MAX bytes); returns out. */
const char *lr_fmt(char *out, double v, enum lr_fmt kind);

#endif
